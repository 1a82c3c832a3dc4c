package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/internal/sink"
)

// Per-domain protection profiles end to end: one mail, to a partner that
// refuses password zips (link), one that takes AES zips and one whose
// agreement is plain over TLS, leaves as three treatments over real SMTP:
// a copy with a download link, a copy with an AES zip that opens with the
// password the sender was sent, and nothing while the next hop offers no
// STARTTLS.
func TestProfilesSplitOneMail(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, `encrypt:
  domains:
    linkco.test: link
partners:
  - {name: 株式会社ジップ商事, domains: [zipco.test], profile: aes_zip}
  - {name: 東西銀行株式会社, domains: [bank.test], profile: plain}
`)
	in.start()
	rcpts := []string{"buyer@linkco.test", "buyer@zipco.test", "cfo@bank.test"}
	if err := sendMail(in.smtp, "alice@example.com", rcpts, attachmentMail("alice@example.com", "buyer@linkco.test", "prof1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) >= 2 })
	byRcpt := map[string][]byte{}
	for _, m := range mailsFrom(sk, "alice@example.com") {
		for _, r := range m.To {
			if _, dup := byRcpt[r]; dup {
				t.Fatalf("%s got two copies", r)
			}
			byRcpt[r] = m.Data
		}
		if len(m.To) != 1 {
			t.Fatalf("one copy went to %v: each profile needs its own", m.To)
		}
	}

	// The link partner: no attachment, no zip, one download link.
	linked := byRcpt["buyer@linkco.test"]
	if linked == nil {
		t.Fatalf("nothing delivered to the link partner; got %v", keys(byRcpt))
	}
	text := noticeText(t, linked)
	if bytes.Contains(linked, []byte("application/zip")) || bytes.Contains(linked, []byte("text/csv")) || strings.Contains(text, "A-100") {
		t.Fatal("the link partner's copy carries the file")
	}
	if n := len(slices.Compact(dlLinkRE.FindAllString(text, -1))); n != 1 {
		t.Fatalf("link partner's copy has %d links:\n%s", n, text)
	}

	// The zip partner: an AES zip (method 99) that opens with the
	// password the sender got, and no link.
	zipped := byRcpt["buyer@zipco.test"]
	if zipped == nil {
		t.Fatal("nothing delivered to the zip partner")
	}
	z := zipOf(t, zipped)
	if dlLinkRE.Match(zipped) {
		t.Fatal("the zip partner's copy carries a download link")
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Method != 99 {
			t.Fatalf("%s: zip method %d, want 99 (WinZip AES)", f.Name, f.Method)
		}
	}
	notice := waitNotice(t, sk, "alice@example.com", "Password:")
	pw := passwordRE.FindStringSubmatch(notice)
	if pw == nil || !strings.Contains(notice, "buyer@zipco.test") || strings.Contains(notice, "linkco.test") {
		t.Fatalf("the password notice should name only the zip partner:\n%s", notice)
	}
	// The project's own reader, and Debian's 7-Zip where installed.
	for _, f := range zr.File {
		if _, err := aeszip.Open(f, "wrong-password"); err == nil {
			t.Fatal("the zip opened with a wrong password")
		}
		rc, err := aeszip.Open(f, pw[1])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != csvBody {
			t.Fatalf("unzipped %q, %v", got, err)
		}
	}
	if sevenZipInstalled() {
		if got := unzipWith(t, z, pw[1]); got != csvBody {
			t.Fatalf("7z unzipped %q", got)
		}
	}

	// The plain partner requires TLS, which the sink does not offer:
	// nothing goes out to it, the message waits for a retry.
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(in.logs(), "TLS is required for these recipients") })
	time.Sleep(700 * time.Millisecond) // past the retries of the schedule
	if _, got := byRcptNow(sk)["cfo@bank.test"]; got {
		t.Fatal("the TLS-only partner got the mail over plain SMTP")
	}
	out, err := in.cli("queue", "list")
	if err != nil || !strings.Contains(out, "2/3") || !strings.Contains(out, "451 4.7.0 TLS is required") {
		t.Fatalf("queue list should show 2 of 3 delivered and the TLS deferral: %v\n%s", err, out)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func byRcptNow(sk *sink.Sink) map[string]bool {
	out := map[string]bool{}
	for _, m := range sk.Messages() {
		for _, r := range m.To {
			out[r] = true
		}
	}
	return out
}

func sevenZipInstalled() bool {
	for _, p := range []string{"7zz", "7z"} {
		if _, err := exec.LookPath(p); err == nil {
			return true
		}
	}
	return false
}
