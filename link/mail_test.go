package link

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/templates"
)

func TestNoteText(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	n := Note{
		Files:    []File{{Name: "見積書.pdf", Size: 120 << 10}, {Name: "evil\r\nBcc: x@y.example", Size: 10}},
		Expires:  time.Date(2026, 4, 8, 9, 0, 0, 0, time.UTC),
		Location: jst, ListNames: true,
	}
	one := NoteText("ja", n, NoteLink{Recipient: "alice@partner.co.jp", URL: "https://sg.example.com/d/TOKEN"})
	for _, want := range []string{
		"ダウンロード: https://sg.example.com/d/TOKEN", "Download: https://sg.example.com/d/TOKEN",
		"2026年4月8日(水) 18:00 JST", "Wed 8 Apr 2026 18:00 JST", "  - 見積書.pdf (120.0 KB)", "  - evil  Bcc: x@y.example (10 B)",
	} {
		if !strings.Contains(one, want) {
			t.Errorf("note lacks %q:\n%s", want, one)
		}
	}
	if strings.Index(one, "ダウンロード:") > strings.Index(one, "Download:") {
		t.Error("Japanese note does not come first")
	}
	if strings.Contains(one, "alice@") || strings.Contains(one, "\r") {
		t.Error("single-link note names the recipient or has CR")
	}
	en := NoteText("en", n, NoteLink{"a@x.example", "https://s/d/A"}, NoteLink{"b@y.example", "https://s/d/B"})
	if !strings.Contains(en, "For a@x.example: https://s/d/A") || !strings.Contains(en, "b@y.example 様: https://s/d/B") {
		t.Errorf("multi-link note:\n%s", en)
	}
	if strings.Index(en, "Download") > strings.Index(en, "ダウンロード") && strings.Index(en, "For a@") > strings.Index(en, "様:") {
		t.Error("English note does not come first")
	}
	n.ListNames = false
	if hidden := NoteText("en", n, NoteLink{"a@x.example", "https://s/d/A"}); strings.Contains(hidden, "見積書") || !strings.Contains(hidden, "Total size: 120.0 KB") {
		t.Errorf("names listed without ListNames:\n%s", hidden)
	}
	s := SenderNoteText("en", n, "https://s/d/revoke/R")
	if !strings.Contains(s, "withdraw the link: https://s/d/revoke/R") || !strings.Contains(s, "リンクの無効化: https://s/d/revoke/R") {
		t.Errorf("sender note:\n%s", s)
	}
}

func TestCodeMail(t *testing.T) {
	m := CodeMail{
		From: "sendguard@example.com", To: "alice@partner.co.jp", Lang: "ja", Code: "1234 5678",
		Sender: "taro@example.com", Subject: "見積\r\nBcc: victim@example.net <script>x</script>",
		Expires: time.Date(2026, 4, 1, 9, 10, 0, 0, time.UTC), Date: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC),
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Header["Bcc"]) != 0 || msg.Header.Get("To") != "<alice@partner.co.jp>" || msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", msg.Header)
	}
	subj, err := new(mimeDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != "[sendguard] ダウンロード用の確認コード / Your download code" {
		t.Errorf("subject %q %v", subj, err)
	}
	text, html := mailParts(t, b)
	if !strings.Contains(text, "1234 5678") || !strings.Contains(html, "1234 5678") {
		t.Error("code missing")
	}
	if !strings.Contains(text, "見積  Bcc: victim@example.net") || strings.Contains(html, "<script>") ||
		!strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("subject line not neutralised:\n%s\n%s", text, html)
	}
	if strings.Index(text, "確認コード") > strings.Index(text, "one-time code") {
		t.Error("Japanese text does not come first")
	}
	for _, bad := range []CodeMail{
		{From: "sendguard@example.com", To: "a@b.example\r\nBcc: c@d.example", Code: "12345678"},
		{From: "sendguard@example.com\nX: y", To: "a@b.example", Code: "12345678"},
		{From: "sendguard@example.com", To: "a@b.example", Code: "1234"},
	} {
		if _, err := bad.Bytes(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{
		"12345678": "12345678", "1234 5678": "12345678", " 1234-5678 ": "12345678", "１２３４５６７８": "12345678",
		"1234　5678": "12345678",
	} {
		if got, err := ParseCode(in); err != nil || got != want {
			t.Errorf("ParseCode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1234567", "123456789", "1234567a", "12345678\n", "١٢٣٤٥٦٧٨", strings.Repeat(" ", 70) + "12345678"} {
		if _, err := ParseCode(in); err == nil {
			t.Errorf("ParseCode(%q) accepted", in)
		}
	}
}

func TestCatalogsMatch(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range templates.Languages() {
		for _, k := range c.c.Keys(l) {
			if strings.HasPrefix(k, "link.") && strings.TrimSpace(c.c.T(l, k)) == "" {
				t.Errorf("%s: %s is empty", l, k)
			}
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":  `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
		"見積 1.xlsx":   `attachment; filename="__ 1.xlsx"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%201.xlsx`,
		`a"b\c%;.txt`: `attachment; filename="a_b_c__.txt"; filename*=UTF-8''a%22b%5Cc%25%3B.txt`,
	} {
		if got := contentDisposition(in); got != want {
			t.Errorf("contentDisposition(%q) = %s, want %s", in, got, want)
		}
	}
}
