package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/sendguard/sendguard/internal/sink"
)

// The encrypt action end to end: an external mail with a CSV attachment
// arrives with only the zip; the password arrives as policy says; the zip
// opens with it in Debian's 7-Zip.

const csvBody = "品番,数量,単価\r\nA-100,3,1200\r\nB-200,1,5400\r\n"

func attachmentMail(from, to, id string) []byte {
	b64 := base64.StdEncoding.EncodeToString([]byte(csvBody))
	return []byte(fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: quote %s\r\nMessage-ID: <%s@test>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the quote attached.\r\n"+
		"--b1\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=\"quote.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
		from, to, id, id, b64))
}

// sevenZip finds Debian's 7-Zip.
func sevenZip(t testing.TB) string {
	for _, p := range []string{"7zz", "7z"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("7zip is not installed (CI installs it in .ci/run)")
	}
	t.Skip("7zip not installed")
	return ""
}

// zipOf returns the application/zip part of a delivered message and
// checks the CSV is no longer there in clear.
func zipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var zip []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.(interface {
			ContentType() (string, map[string]string, error)
		}).ContentType()
		b, _ := io.ReadAll(p.Body)
		if ct == "text/csv" || bytes.Contains(b, []byte("A-100")) {
			t.Fatalf("the CSV left in clear (%s part)", ct)
		}
		if ct == "application/zip" {
			zip = b
		}
	}
	if zip == nil {
		t.Fatal("no zip part in the delivered message")
	}
	return zip
}

var passwordRE = regexp.MustCompile(`Password: (\S+)`)

func unzipWith(t testing.TB, zip []byte, pw string) string {
	t.Helper()
	bin := sevenZip(t)
	dir := t.TempDir()
	zp := filepath.Join(dir, "a.zip")
	os.WriteFile(zp, zip, 0o600)
	out, err := exec.Command(bin, "x", "-y", "-p"+pw, "-o"+filepath.Join(dir, "x"), zp).CombinedOutput()
	if err != nil {
		t.Fatalf("7z with the notified password: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "x", "quote.csv"))
	if err != nil {
		t.Fatalf("quote.csv not in the zip: %v", err)
	}
	if _, err := exec.Command(bin, "t", "-pwrong-password", zp).CombinedOutput(); err == nil {
		t.Fatal("7z accepted a wrong password")
	}
	return string(got)
}

func waitMail(t testing.TB, sk *sink.Sink, from string) sink.Message {
	t.Helper()
	waitFor(t, 15*time.Second, func() bool { return len(mailsFrom(sk, from)) > 0 })
	return mailsFrom(sk, from)[0]
}

func TestEncryptPasswordToSender(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "enc1")); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, sk, "alice@example.com")
	zip := zipOf(t, m.Data)
	if !bytes.Contains(m.Data, []byte("Please find the quote attached.")) {
		t.Fatal("the body text was lost")
	}
	notice := waitNotice(t, sk, "alice@example.com", "Password:")
	pw := passwordRE.FindStringSubmatch(notice)
	if pw == nil || !strings.Contains(notice, "buyer@partner.test") {
		t.Fatalf("sender's notice lacks the password or the recipients:\n%s", notice)
	}
	if got := unzipWith(t, zip, pw[1]); got != csvBody {
		t.Fatalf("unzipped %q", got)
	}
	if strings.Contains(in.logs(), pw[1]) {
		t.Fatal("the password appears in the log")
	}
	for _, msg := range sk.Messages() {
		if msg.To[0] == "buyer@partner.test" && msg.From == "" {
			t.Fatal("sender mode must not mail the password to the recipient")
		}
	}
}

func TestEncryptPasswordToRecipient(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "encrypt:\n  recipient_delay: 1s\n")
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: ppap
    when: recipients.external > 0 && size(attachments) > 0
    actions: [encrypt]
    params:
      encrypt_password: recipient
    reason:
      ja: 添付ファイルを暗号化しました。
      en: Attachments were encrypted.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "enc2")); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, sk, "alice@example.com")
	zip := zipOf(t, m.Data)
	notice := waitNotice(t, sk, "buyer@partner.test", "Password:")
	pw := passwordRE.FindStringSubmatch(notice)
	if pw == nil {
		t.Fatalf("no password in the recipient's mail:\n%s", notice)
	}
	if got := unzipWith(t, zip, pw[1]); got != csvBody {
		t.Fatalf("unzipped %q", got)
	}
}

func TestEncryptPresetPassword(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	presets := in.dir + "/presets.yaml"
	writeFile(presets, "partner.test: Agreed-Pass-2026\n")
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: preset
    when: recipients.external > 0 && size(attachments) > 0
    actions: [encrypt]
    params:
      encrypt_password: preset
    reason:
      ja: 添付ファイルを取り決めたパスワードで暗号化しました。
      en: Attachments were encrypted with the agreed password.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\nencrypt:\n  preset_passwords_file: "+presets+"\n")
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "enc3")); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, sk, "alice@example.com")
	if got := unzipWith(t, zipOf(t, m.Data), "Agreed-Pass-2026"); got != csvBody {
		t.Fatalf("unzipped %q", got)
	}
	time.Sleep(500 * time.Millisecond)
	for _, msg := range sk.Messages() {
		if msg.From == "" {
			t.Fatalf("preset mode mailed a password notice to %v", msg.To)
		}
	}
}

// TestUnencryptableHeldThenReleased: a signed message cannot be rewritten
// (its parts must not change), so instead of leaving in clear it is held
// for review; the reviewer's release sends it as it is.
func TestUnencryptableHeldThenReleased(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	signed := "From: <alice@example.com>\r\nTo: <buyer@partner.test>\r\nSubject: signed quote\r\nMessage-ID: <signed1@test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"s1\"\r\n\r\n" +
		"--s1\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nquote attached\r\n" +
		"--b1\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"quote.csv\"\r\n\r\nA-100,3,1200\r\n--b1--\r\n\r\n" +
		"--s1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIBAA==\r\n--s1--\r\n"
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, []byte(signed)); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, sk, "alice@example.com", "signed quote")
	out, err := in.cli("queue", "list", "-state", "held")
	ids := regexp.MustCompile(`(?m)^([0-9A-Z]{21})\s`).FindStringSubmatch(out)
	if err != nil || ids == nil {
		t.Fatalf("the unencryptable mail was not held: %v\n%s", err, out)
	}
	if len(mailsFrom(sk, "alice@example.com")) != 0 {
		t.Fatal("the mail left although it could not be encrypted")
	}
	if out, err := in.cli("queue", "release", ids[1], "-reason", "signed contract, checked"); err != nil {
		t.Fatalf("release: %v %s", err, out)
	}
	m := waitMail(t, sk, "alice@example.com")
	if !bytes.Contains(m.Data, []byte("multipart/signed")) || !bytes.Contains(m.Data, []byte("A-100,3,1200")) {
		t.Fatalf("released mail changed:\n%.400s", m.Data)
	}
}

// TestEncryptDocumentDeclaredAsText: a document sent as an unnamed
// text/plain part (base64 of a zip) is found by the inspection and zipped
// by the rewrite like any attachment: it does not leave in clear.
func TestEncryptDocumentDeclaredAsText(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("quote.csv")
	f.Write([]byte(csvBody))
	zw.Close()
	doc := base64.StdEncoding.EncodeToString(zb.Bytes())
	msg := []byte("From: <alice@example.com>\r\nTo: <buyer@partner.test>\r\nSubject: quote\r\nMessage-ID: <doc1@test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the quote attached.\r\n" +
		"--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + doc + "\r\n--b1--\r\n")
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, msg); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, sk, "alice@example.com")
	if bytes.Contains(m.Data, []byte(doc[:60])) {
		t.Fatal("the document left in clear")
	}
	outer := zipOf(t, m.Data)
	notice := waitNotice(t, sk, "alice@example.com", "Password:")
	pw := passwordRE.FindStringSubmatch(notice)
	if pw == nil {
		t.Fatalf("no password in the sender's notice:\n%s", notice)
	}
	dir := t.TempDir()
	zp := filepath.Join(dir, "a.zip")
	os.WriteFile(zp, outer, 0o600)
	if out, err := exec.Command(sevenZip(t), "x", "-y", "-p"+pw[1], "-o"+filepath.Join(dir, "x"), zp).CombinedOutput(); err != nil {
		t.Fatalf("7z: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "x", "attachment1.zip"))
	if err != nil || !bytes.Equal(got, zb.Bytes()) {
		t.Fatalf("the document in the zip: %v (%d bytes, want %d)", err, len(got), zb.Len())
	}
}
