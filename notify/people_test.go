package notify

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// A hold notice says how many people's data the message carries, and when
// the count reaches the PPC reporting scale, says so.
func TestNoticeNamesPeopleAffected(t *testing.T) {
	b := newTestBuilder(t)
	for _, c := range []struct {
		lang, people string
		n            int
		items        []string
	}{
		{"ja", "約23,000人分の個人データ（個人情報保護委員会への報告対象となる規模）", 23456, []string{"氏名", "電話番号"}},
		{"en", "personal data of about 23,000 people (a scale that must be reported", 23456, []string{"氏名", "電話番号"}},
		{"ja", "12人分の個人データ", 12, []string{"氏名", "住所"}},
		{"ja", "3人分の個人データ（マイナンバーを含むため", 3, []string{"氏名", "マイナンバー"}},
	} {
		msg, err := b.Build(noticeFor(KindReviewNotice, c.lang, func(_ *hold.Record, rep *rules.Report) {
			rep.People, rep.DataItems = c.n, c.items
		}))
		if err != nil {
			t.Fatal(err)
		}
		text, html := checkWellFormed(t, msg)
		for name, body := range map[string]string{"text": text, "html": html} {
			if !strings.Contains(body, c.people) {
				t.Errorf("%s %s part of a %d-person notice lacks %q:\n%s", c.lang, name, c.n, c.people, body)
			}
		}
		if c.lang == "en" && !strings.Contains(text, "phone number") {
			t.Errorf("English notice names data items in Japanese:\n%s", text)
		}
	}
	msg, err := b.Build(noticeFor(KindReviewNotice, "ja"))
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := checkWellFormed(t, msg); strings.Contains(text, "人分の個人データ") {
		t.Error("a notice without personal data names people")
	}
}
