package compose

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

func newWriter(t *testing.T) *Writer {
	t.Helper()
	w, err := New(Options{From: "sendguard <sendguard@example.com>", Location: time.FixedZone("JST", 9*3600),
		Now: func() time.Time { return time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSinglePart(t *testing.T) {
	w := newWriter(t)
	msg, err := w.Write(Mail{To: []string{"taro@example.com"}, Subject: "パスワード\r\nBcc: x@evil.example", Lang: "ja",
		Text: "一行目\nPassword: a=b\n"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Date": "Wed, 01 Apr 2026 18:00:00 +0900", "Auto-Submitted": "auto-generated",
		"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "quoted-printable",
		"Content-Language": "ja",
	} {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := m.Header["Bcc"]; ok {
		t.Error("Bcc header injected through the subject")
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subj != "パスワード  Bcc: x@evil.example" {
		t.Errorf("subject %q, %v", subj, err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	if string(body) != "一行目\r\nPassword: a=b\r\n" {
		t.Errorf("body %q", body)
	}
}

func TestAlternative(t *testing.T) {
	w := newWriter(t)
	msg, err := w.Write(Mail{To: []string{"a@example.com", "B <b@example.com>"}, Subject: "s", Text: "t\n", HTML: "<p>h</p>\n"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := r.Header.ContentType(); mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", mt)
	}
	if to, err := r.Header.AddressList("To"); err != nil || len(to) != 2 {
		t.Errorf("To = %v, %v", to, err)
	}
	var types []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, _, _ := p.Header.(*gomail.InlineHeader).ContentType()
		types = append(types, mt)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v", types)
	}
}

func TestRefusedAddresses(t *testing.T) {
	if _, err := New(Options{From: "x\r\nBcc: y@z"}); err == nil {
		t.Error("From with CRLF accepted")
	}
	w := newWriter(t)
	for _, to := range [][]string{nil, {"not an address"}, {"<postmaster>"}, {"\"a\r\nX: 1\" <a@example.com>"}} {
		if _, err := w.Write(Mail{To: to, Text: "t"}); err == nil {
			t.Errorf("To %q accepted", to)
		}
	}
}

func TestLongSubjectFolds(t *testing.T) {
	got := EncodeWords(strings.Repeat("長い件名", 40))
	dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(got, "\r\n ", " "))
	if err != nil || dec != strings.Repeat("長い件名", 40) {
		t.Fatalf("round trip: %q, %v", dec, err)
	}
	for _, line := range strings.Split(got, "\r\n") {
		if len(line) > 76 {
			t.Errorf("folded line of %d bytes", len(line))
		}
	}
}
