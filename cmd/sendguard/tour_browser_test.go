package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/web/outbox"
)

// TestBrowserTour is the README's tour in Chromium on the demo outbox,
// with the whole gateway running: the notices are readable in the outbox
// in both languages, the sender of an approver hold is told who must
// approve, and the confirm link leads to a page in the reader's language
// with the policy's reason and local times.
func TestBrowserTour(t *testing.T) {
	browsertest.Script(t, "pages.mjs") // skip early when the browser is missing
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	err := os.WriteFile(pol, []byte(`rules:
  - name: hr-to-outside
    when: subject.contains("salary")
    actions: [hold_approver]
    reason: {ja: 給与に関するメールは上長の承認が必要です。, en: Mail about salaries needs your manager's approval.}
  - name: mass-exposure
    when: recipients.visible_external >= 10
    actions: [hold_sender]
    reason: {ja: 多数の社外アドレスが見えています。, en: Many external addresses are visible.}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, "", "time_zone: Asia/Tokyo\npolicy: "+pol+"\nhold:\n  approvers: {\"*\": [boss@example.com]}\n")
	in.start()
	to := massRecipients("c")
	if err := sendMail(in.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "tour-mass", "newsletter")); err != nil {
		t.Fatal(err)
	}
	salary := "From: <alice@example.com>\r\nTo: <tax@partner.test>\r\nSubject: salary 2026-11\r\nMessage-ID: <tour-salary@test>\r\n\r\nsee you\r\n"
	if err := sendMail(in.smtp, "alice@example.com", []string{"tax@partner.test"}, []byte(salary)); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(in.dir, "data", "outbox")
	var confirm, approverNotice, confirmNotice string
	waitFor(t, 20*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(box, "*.eml"))
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				continue
			}
			m, _ := outbox.Parse(fh)
			fh.Close()
			var body strings.Builder
			for _, s := range m.Body {
				body.WriteString(s.Text)
			}
			switch {
			case strings.Contains(body.String(), "boss@example.com") && strings.Contains(m.To[0], "alice@example.com"):
				approverNotice = filepath.Base(f)
			case linkRE.MatchString(body.String()) && strings.Contains(m.To[0], "alice@example.com"):
				confirmNotice, confirm = filepath.Base(f), linkRE.FindString(body.String())
			}
		}
		return approverNotice != "" && confirm != ""
	})
	web := "http://" + in.web
	browsertest.CheckPages(t, "tour", []browsertest.Page{
		{Name: "outbox-ja", URL: web + "/outbox?lang=ja", Lang: "ja", Expect: []string{"デモ専用", "sendguard からの通知", "JST"}},
		{Name: "approver-notice-ja", URL: web + "/outbox/" + approverNotice + "?lang=ja", Lang: "ja",
			Expect: []string{"承認者(boss@example.com)の承認を待っています", "給与に関するメールは上長の承認が必要です。", "JST"},
			Absent: []string{"セキュリティ担当が内容を確認するまで", "hr-to-outside"}},
		{Name: "approver-notice-en", URL: web + "/outbox/" + approverNotice + "?lang=en", Lang: "en",
			Expect: []string{"waits for approval by boss@example.com", "Mail about salaries needs your manager's approval."},
			Absent: []string{"security team", "hr-to-outside"}},
		{Name: "confirm-notice", URL: web + "/outbox/" + confirmNotice, Enabled: []string{"a[href='" + confirm + "']"}},
		{Name: "confirm-ja", URL: confirm + "?lang=ja", Lang: "ja",
			Expect: []string{"多数の社外アドレスが見えています。", "JST", "本文の冒頭", "newsletter"}, Absent: []string{"Many external addresses are visible."},
			Order: []string{"customer1.test", "customer2.test", "customer10.test"}, Enabled: []string{"button[value=send_bcc]"}},
		{Name: "confirm-en", URL: confirm + "?lang=en", Lang: "en",
			Expect: []string{"Many external addresses are visible.", "JST"}, Absent: []string{"多数の社外アドレスが見えています。"}},
	})
}
