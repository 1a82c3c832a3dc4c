package disposition

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/rules"
)

// noticeText builds n and returns its decoded text part.
func noticeText(t *testing.T, b *notify.Builder, n notify.Notice) string {
	t.Helper()
	msg, err := b.Build(n)
	if err != nil {
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
	return string(body)
}

// The reason of an outcome notice is a person's word (a reviewer's or an
// approver's), never the machine text of the sender's own click or a
// timer; the sender of an approver hold is told whose approval it waits
// for.
func TestNoticeView(t *testing.T) {
	b, err := notify.NewBuilder(notify.Options{From: "sendguard@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	rec := func() *hold.Record {
		return &hold.Record{ID: "q-1", Kind: hold.KindReview, State: hold.StateReleased, Sender: "taro@example.com",
			Subject: "quote", CreatedAt: time.Now(), Deadline: time.Now().Add(time.Hour), Language: "en",
			Reason: "checked with the customer"}
	}
	for role, want := range map[string]bool{"sender": false, "system": false, "reviewer": true, "approver": true} {
		hr := rec()
		hr.DecidedBy = hold.Actor{Name: "x", Role: role}
		n := noticeView(notify.KindReleased, []string{hr.Sender}, hr, &rules.Report{}, "")
		n.Lang = "en"
		if got := strings.Contains(noticeText(t, b, n), "checked with the customer"); got != want {
			t.Errorf("decided by %s: reason shown %v, want %v", role, got, want)
		}
	}
	hr := rec()
	hr.Kind, hr.State, hr.Approvers = hold.KindApprover, hold.StateHeld, []string{"boss@example.com"}
	n := noticeView(notify.KindReviewNotice, []string{hr.Sender}, hr, &rules.Report{}, "")
	n.Lang = "en"
	if text := noticeText(t, b, n); !strings.Contains(text, "boss@example.com") {
		t.Errorf("approver not named:\n%s", text)
	}
	if n = noticeView(notify.KindReviewNotice, []string{hr.Sender}, rec(), &rules.Report{}, ""); len(n.Approvers) != 0 {
		t.Errorf("a review hold names approvers %v", n.Approvers)
	}
}
