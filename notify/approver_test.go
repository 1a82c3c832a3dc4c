package notify

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// The sender of an approver hold is told whose approval it waits for, in
// their language, with the policy's reason in that language and the
// deadline in the configured zone.
func TestApproverHoldNoticeNamesTheApprover(t *testing.T) {
	b := newTestBuilder(t)
	for _, tc := range []struct{ lang, who, reason, notReason, zone string }{
		{"ja", "承認者(boss@example.com)の承認を待っています", "上長の承認が必要です。", "Your manager must approve.", "JST"},
		{"en", "waits for approval by boss@example.com", "Your manager must approve.", "上長の承認が必要です。", "JST"},
	} {
		n := noticeFor(KindReviewNotice, tc.lang, func(rec *hold.Record, _ *rules.Report) {
			rec.Kind, rec.Approvers = hold.KindApprover, []string{"boss@example.com"}
			rec.Decision = hold.Decision{Rules: []string{"hr-to-outside"}, Reasons: []string{"上長の承認が必要です。"},
				Localized: []hold.Reason{{Rule: "hr-to-outside", JA: "上長の承認が必要です。", EN: "Your manager must approve."}}}
		})
		msg, err := b.Build(n)
		if err != nil {
			t.Fatal(err)
		}
		text, html := checkWellFormed(t, msg)
		for _, part := range []string{text, html} {
			if !strings.Contains(part, tc.who) || !strings.Contains(part, tc.reason) || !strings.Contains(part, tc.zone) {
				t.Errorf("%s notice lacks %q, %q or %q:\n%s", tc.lang, tc.who, tc.reason, tc.zone, part)
			}
			for _, bad := range []string{tc.notReason, "hr-to-outside", "security team", "セキュリティ担当"} {
				if strings.Contains(part, bad) {
					t.Errorf("%s notice contains %q:\n%s", tc.lang, bad, part)
				}
			}
		}
	}
}

func TestBilingualOrderFollowsDefaultLanguage(t *testing.T) {
	for def, first := range map[string]string{"": "このメールはまだ送信されていません", "ja": "このメールはまだ送信されていません", "en": "Your message has not been sent yet"} {
		b, err := NewBuilder(Options{From: "sendguard@example.com", DefaultLanguage: def})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := b.Build(noticeFor(KindConfirm, ""))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := checkWellFormed(t, msg)
		if !strings.HasPrefix(text, first) {
			t.Errorf("default %q: text starts %q", def, text[:min(len(text), 60)])
		}
	}
}
