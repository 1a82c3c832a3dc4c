package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/crypto/dkim"
	"github.com/sendguard/sendguard/internal/dkimtest"
	"github.com/sendguard/sendguard/internal/sink"
)

var zoneStrings = regexp.MustCompile(`"([^"]*)"`)

// keygen runs `sendguard dkim keygen` and returns the key file and the TXT
// record value it printed.
func keygen(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	keyPath := filepath.Join(dir, args[len(args)-1]+".key")
	all := append([]string{"dkim", "keygen", "-out", keyPath}, args...)
	cmd := exec.Command(sendguardBin(t), all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dkim keygen: %v\n%s", err, stderr.String())
	}
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v mode %v", keyPath, err, fi.Mode())
	}
	line := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(line, args[len(args)-1]+"._domainkey."+args[len(args)-2]+". IN TXT (") {
		t.Fatalf("record line %q", line)
	}
	var value strings.Builder
	for _, m := range zoneStrings.FindAllStringSubmatch(line, -1) {
		value.WriteString(m[1])
	}
	// A second run never overwrites a key that may be in DNS already.
	if err := exec.Command(sendguardBin(t), all...).Run(); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}
	return keyPath, value.String()
}

// TestDKIMSignedAtLastHop: rewritten (Bcc, link), encrypted and untouched mail
// and sendguard's own notices and DSNs leave signed for the From domain,
// and both go-msgauth and Debian's python3-dkim verify them against the
// record `sendguard dkim keygen` printed. Untouched mail keeps its
// upstream signature valid.
func TestDKIMSignedAtLastHop(t *testing.T) {
	dkimtest.Require(t)
	sk := startSink(t)
	sk.SetRcptErr(func(rcpt string) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	in := newInstance(t, sk.Addr, "")
	keyPath, rec := keygen(t, in.dir, "example.com", "sg1")
	policy := filepath.Join(in.dir, "policy.yaml")
	writeFile(policy, `version: 1
rules:
  - name: many-visible
    when: recipients.visible_external >= 3
    actions: [bcc]
    reason:
      ja: 社外の宛先を Bcc に変更しました。
      en: External recipients were moved to Bcc.
  - name: links
    when: subject.contains("link") && size(attachments) > 0
    actions: [link]
    reason:
      ja: 添付ファイルはダウンロードリンクに置き換えました。
      en: Attachments were replaced by download links.
  - name: external-attachment
    when: recipients.external > 0 && size(attachments) > 0
    actions: [encrypt]
    params:
      encrypt_password: sender
    reason:
      ja: 添付ファイルを暗号化しました。
      en: Attachments were encrypted.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policy+"\ndkim:\n  domains:\n    example.com:\n      selector: sg1\n      key_file: "+keyPath+"\n")
	in.start()

	// The corporate MTA signed this one already, with its own selector.
	upKey, upPEM, err := dkim.GenerateKey("ed25519", 0)
	if err != nil {
		t.Fatal(err)
	}
	upFile := filepath.Join(in.dir, "upstream.key")
	os.WriteFile(upFile, upPEM, 0o600)
	upstream, err := dkim.New([]dkim.Domain{{Name: "example.com", Selector: "corp", KeyFile: upFile}})
	if err != nil {
		t.Fatal(err)
	}
	upRec, _ := dkim.RecordValue(upKey)
	recs := dkimtest.Records{"sg1._domainkey.example.com": rec, "corp._domainkey.example.com": upRec}

	plain := testMessage("alice@example.com", []string{"bob@partner.test"}, "untouched", "Nothing to change here.")
	field, err := upstream.Signature(bytes.NewReader(plain))
	if err != nil || field == "" {
		t.Fatalf("upstream signature: %q %v", field, err)
	}
	plain = append([]byte(field), plain...)
	mass := []string{"c1@one.test", "c2@two.test", "c3@three.test"}
	for _, m := range []struct {
		to  []string
		msg []byte
	}{
		{[]string{"bob@partner.test"}, plain},
		{mass, testMessage("alice@example.com", mass, "bcc", "To many customers.")},
		{[]string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "enc")},
		{[]string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "link")},
		{[]string{"nobody@partner.test"}, testMessage("alice@example.com", []string{"nobody@partner.test"}, "bounce", "Lost.")},
	} {
		if err := sendMail(in.smtp, "alice@example.com", m.to, m.msg); err != nil {
			t.Fatal(err)
		}
	}
	byID := func(id string) func(sink.Message) bool {
		return func(m sink.Message) bool { return bytes.Contains(m.Data, []byte("Message-ID: <"+id+"@test>")) }
	}
	var got map[string][]byte
	waitFor(t, 20*time.Second, func() bool {
		got = map[string][]byte{}
		for _, m := range sk.Messages() {
			switch {
			case m.From == "alice@example.com" && byID("untouched")(m):
				got["untouched"] = m.Data
			case m.From == "alice@example.com" && byID("bcc")(m):
				got["bcc"] = m.Data
			case m.From == "alice@example.com" && byID("enc")(m):
				got["encrypted"] = m.Data
			case m.From == "alice@example.com" && byID("link")(m):
				got["linked"] = m.Data
			case m.From == "" && bytes.Contains(m.Data, []byte("MAILER-DAEMON@gw.example.com")):
				got["dsn"] = m.Data
			case m.From == "" && strings.Contains(noticeText(t, m.Data), "Password:"):
				got["password notice"] = m.Data
			}
		}
		return len(got) == 6
	})

	if bytes.Contains(headerOf(got["bcc"]), []byte("c1@one.test")) {
		t.Fatal("the Bcc rewrite did not happen")
	}
	csv64 := base64.StdEncoding.EncodeToString([]byte(csvBody))
	if bytes.Contains(got["encrypted"], []byte(csv64)) || bytes.Contains(got["linked"], []byte(csv64)) {
		t.Fatal("the encrypt or link rewrite did not happen")
	}
	for name, data := range got {
		if !bytes.HasPrefix(data, []byte("DKIM-Signature: ")) {
			t.Errorf("%s: no DKIM-Signature in front:\n%.400s", name, data)
			continue
		}
		want := 1
		if name == "untouched" {
			want = 2 // ours and the upstream one, both valid
		}
		doms := dkimtest.GoVerify(t, data, recs)
		if len(doms) != want {
			t.Errorf("%s: go-msgauth verified %d signatures (%v), want %d", name, len(doms), doms, want)
		}
		if n := dkimtest.PyVerify(t, data, recs); n != want {
			t.Errorf("%s: python3-dkim verified %d signatures, want %d", name, n, want)
		}
		if f := firstField(data); !strings.Contains(f, " d=example.com;") || !strings.Contains(f, " s=sg1;") {
			t.Errorf("%s: first field is not example.com's sg1 signature: %s", name, f)
		}
	}
	if strings.Contains(in.logs(), "PRIVATE KEY") {
		t.Fatal("the private key appears in the log")
	}
}

// firstField returns the first header field, unfolded.
func firstField(data []byte) string {
	var b strings.Builder
	for i, line := range strings.Split(string(headerOf(data)), "\r\n") {
		if i > 0 && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			break
		}
		b.WriteString(strings.TrimSpace(line) + " ")
	}
	return b.String()
}

func headerOf(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i]
	}
	return data
}

// TestDKIMBadKeyRefusesToStart: serve and config check both refuse a
// missing or weak key, naming it.
func TestDKIMBadKeyRefusesToStart(t *testing.T) {
	in := newInstance(t, "", "dkim:\n  domains:\n    example.com:\n      selector: sg1\n      key_file: /nonexistent/sg1.key\n")
	out, err := exec.Command(sendguardBin(t), "serve", "-config", in.cfgPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "dkim.domains.example.com.key_file") || !strings.Contains(string(out), "/nonexistent/sg1.key") {
		t.Fatalf("serve with a missing key: %v\n%s", err, out)
	}
	out, err = exec.Command(sendguardBin(t), "config", "check", in.cfgPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "/nonexistent/sg1.key: no such file") {
		t.Fatalf("config check with a missing key: %v\n%s", err, out)
	}
	out, err = exec.Command(sendguardBin(t), "dkim", "keygen", "-bits", "1024", "-out", filepath.Join(in.dir, "w.key"), "example.com", "w").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "1024 bits") {
		t.Fatalf("keygen made a weak key: %v\n%s", err, out)
	}
}

// The dkim command follows the CLI's conventions: -h is usage with
// status 0, a usage mistake exits 2, a failure 1.
func TestDKIMCommandLine(t *testing.T) {
	for _, args := range [][]string{{"dkim", "-h"}, {"dkim", "keygen", "-h"}, {"help", "dkim"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "usage: sendguard dkim keygen") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dkim"}, 2, "a subcommand is required"},
		{[]string{"dkim", "frob"}, 2, `unknown dkim command "frob"`},
		{[]string{"dkim", "keygen", "example.com"}, 2, "takes DOMAIN and SELECTOR"},
		{[]string{"dkim", "keygen", "-type", "dsa", "-out", filepath.Join(t.TempDir(), "k"), "example.com", "s1"}, 1, `key type "dsa"`},
		{[]string{"dkim", "keygen", "example.com", "bad selector"}, 1, "not a DNS name"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, errOut)
		}
	}
}
