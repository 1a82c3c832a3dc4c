package notify

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"
)

// plainText parses a one-part notice as a mail reader would and returns
// its decoded subject and text.
func plainText(t *testing.T, msg []byte) (subject, text string) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("headers: %v", m.Header)
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	if k := regexp.MustCompile(`\[[a-z_]+\.[a-z_.-]+\]`).FindString(string(body) + subject); k != "" {
		t.Errorf("untranslated key %s", k)
	}
	return subject, string(body)
}

func passwordFor(toSender bool, lang string) PasswordNotice {
	n := PasswordNotice{To: "buyer@partner.co.jp", Lang: lang, Subject: "お見積り(4月分)\r\nBcc: x@evil.example",
		ZipName: "attachments.zip", Password: "Xk3=p9Qr-7", Files: []string{"見積書.pdf", "顧客.csv"},
		Recipients: []string{"buyer@partner.co.jp"}, Date: testNow}
	if toSender {
		n.To, n.ToSender = "taro@example.com", true
	}
	return n
}

// TestPasswordGolden renders the sender's and a recipient's password
// notice in ja, en and both (testdata/password_*.LANG.eml).
func TestPasswordGolden(t *testing.T) {
	b := newTestBuilder(t)
	for _, who := range []string{"sender", "recipient"} {
		for _, lang := range []string{"ja", "en", ""} {
			name := "password_" + who + "." + map[string]string{"": "both"}[lang] + lang
			t.Run(name, func(t *testing.T) {
				msg, err := b.Password(passwordFor(who == "sender", lang))
				if err != nil {
					t.Fatal(err)
				}
				subj, text := plainText(t, msg)
				if !strings.HasPrefix(subj, "[sendguard] ") || strings.ContainsAny(subj, "\r\n") {
					t.Errorf("subject %q", subj)
				}
				// The end-to-end tests read the password after "Password: ".
				if lang != "ja" && !strings.Contains(text, "Password: Xk3=p9Qr-7\r\n") {
					t.Errorf("password line missing:\n%s", text)
				}
				// A recipient learns nothing about the files or the other
				// recipients: the notice may reach the wrong person.
				if got := strings.Contains(text, "顧客.csv"); got != (who == "sender") {
					t.Errorf("file names shown: %v", got)
				}
				golden(t, name, msg)
			})
		}
	}
}

func TestPasswordOrderFollowsDefaultLanguage(t *testing.T) {
	for def, first := range map[string]string{"": "送信したメール", "ja": "送信したメール", "en": "The attachments"} {
		b, err := NewBuilder(Options{From: "sendguard@example.com", DefaultLanguage: def})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := b.Password(passwordFor(true, ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, text := plainText(t, msg); !strings.HasPrefix(text, first) {
			t.Errorf("default %q: text starts %q", def, text[:min(len(text), 40)])
		}
	}
}

func TestPasswordRefused(t *testing.T) {
	b := newTestBuilder(t)
	for name, mutate := range map[string]func(*PasswordNotice){
		"no password":   func(n *PasswordNotice) { n.Password = "" },
		"two lines":     func(n *PasswordNotice) { n.Password = "a\r\nb" },
		"language":      func(n *PasswordNotice) { n.Lang = "fr" },
		"no recipient":  func(n *PasswordNotice) { n.To = "" },
		"injected addr": func(n *PasswordNotice) { n.To = "a@b.example\r\nBcc: c@d.example" },
	} {
		n := passwordFor(true, "")
		mutate(&n)
		if _, err := b.Password(n); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLinkSentGolden(t *testing.T) {
	b := newTestBuilder(t)
	for _, first := range []string{"ja", "en"} {
		name := "link_sent." + first
		t.Run(name, func(t *testing.T) {
			msg, err := b.Text(TextNotice{Kind: LinkSent, To: "taro@example.com", First: first, Topic: "お見積り(4月分)",
				Text: "NOTE TEXT\nhttps://sendguard.example.com/d/revoke/TOKEN\n", Date: testNow})
			if err != nil {
				t.Fatal(err)
			}
			subj, text := plainText(t, msg)
			want := map[string]string{
				"ja": "[sendguard] ダウンロードリンクで送信しました / Sent as download links: お見積り(4月分)",
				"en": "[sendguard] Sent as download links / ダウンロードリンクで送信しました: お見積り(4月分)",
			}[first]
			if subj != want {
				t.Errorf("subject %q, want %q", subj, want)
			}
			if !strings.HasPrefix(text, "NOTE TEXT\r\nhttps://sendguard.example.com/d/revoke/TOKEN\r\n") {
				t.Errorf("text %q", text)
			}
			golden(t, name, msg)
		})
	}
	if _, err := b.Text(TextNotice{Kind: "nope", To: "taro@example.com"}); err == nil {
		t.Error("unknown kind accepted")
	}
}
