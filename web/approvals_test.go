package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

// approverToken adds an approver's link bound to who.
func (e *env) approverToken(id, who string) string {
	e.t.Helper()
	text, hash, err := NewToken()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddToken(context.Background(), hold.Token{Hash: hash, MessageID: id, Role: hold.RoleApprover,
		Subject: who, Expires: e.clock.Now().Add(time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return text
}

func (e *env) quorumHold(id string) {
	e.t.Helper()
	raw, _ := json.Marshal(sampleReport())
	rec := &hold.Record{ID: id, Kind: hold.KindApprover, Sender: "taro@example.com", Subject: "見積",
		Deadline:  e.clock.Now().Add(24 * time.Hour),
		Decision:  hold.Decision{Actions: []string{"hold_approver"}, Rules: []string{"pii-external"}},
		Report:    raw,
		Approvers: []string{"boss@example.com", "cfo@example.com", "ciso@example.com"}, ApprovalsRequired: 2,
	}
	if err := e.store.Create(context.Background(), rec, hold.System, "policy"); err != nil {
		e.t.Fatal(err)
	}
}

// Two of three approvers through their own links: the page counts, the
// first approval leaves the message held, the second releases it.
func TestTwoOfThreeByLinks(t *testing.T) {
	e := newEnv(t, nil)
	e.quorumHold("m1")
	boss, boss2, cfo := e.approverToken("m1", "boss@example.com"), e.approverToken("m1", "boss@example.com"), e.approverToken("m1", "cfo@example.com")

	r := e.get(e.url(boss) + "?lang=en")
	if r.status != http.StatusOK || !strings.Contains(r.body, "0 of 2 approvals") {
		t.Fatalf("approve page: %d\n%s", r.status, r.body)
	}
	csrf, _ := e.form(e.url(boss))
	r = e.post(e.url(boss)+"?lang=en", values("csrf", csrf, "action", "approve"))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Approval recorded") || !strings.Contains(r.body, "1 of 2 approvals (boss@example.com)") {
		t.Fatalf("first approval: %d\n%s", r.status, r.body)
	}
	if rec := e.record("m1"); rec.State != hold.StateHeld || len(rec.Approvals) != 1 || e.releases.Load() != 0 {
		t.Fatalf("after one: %+v releases %d", rec, e.releases.Load())
	}
	// The same link again: used, and the page says the approval counts.
	if r := e.get(e.url(boss) + "?lang=en"); r.status != http.StatusConflict || !strings.Contains(r.body, "already approved") {
		t.Fatalf("used link: %d\n%s", r.status, r.body)
	}
	// boss's second link (say a reminder) counts nothing.
	csrf2, _ := e.form(e.url(boss2))
	if r := e.post(e.url(boss2)+"?lang=ja", values("csrf", csrf2, "action", "approve")); r.status != http.StatusConflict ||
		!strings.Contains(r.body, "承認済みです") || !strings.Contains(r.body, "1 / 2 件の承認") {
		t.Fatalf("second link of the same approver: %d\n%s", r.status, r.body)
	}
	csrf3, _ := e.form(e.url(cfo))
	if r := e.post(e.url(cfo)+"?lang=en", values("csrf", csrf3, "action", "approve")); r.status != http.StatusOK || !strings.Contains(r.body, "Approved") {
		t.Fatalf("second approval: %d\n%s", r.status, r.body)
	}
	rec := e.record("m1")
	if rec.State != hold.StateReleased || rec.DecidedBy.Name != "cfo@example.com" || e.releases.Load() != 1 {
		t.Fatalf("after two: %+v releases %d", rec, e.releases.Load())
	}
	// hold, approve, release
	if n := e.events("m1"); n != 3 {
		t.Fatalf("%d events", n)
	}
}

// One approval, then a rejection by another approver: rejected.
func TestQuorumRejectedByOne(t *testing.T) {
	e := newEnv(t, nil)
	e.quorumHold("m1")
	boss, ciso := e.approverToken("m1", "boss@example.com"), e.approverToken("m1", "ciso@example.com")
	csrf, _ := e.form(e.url(boss))
	if r := e.post(e.url(boss), values("csrf", csrf, "action", "approve")); r.status != http.StatusOK {
		t.Fatalf("approve: %d", r.status)
	}
	csrf, _ = e.form(e.url(ciso))
	if r := e.post(e.url(ciso), values("csrf", csrf, "action", "reject", "reason", "送れません")); r.status != http.StatusOK {
		t.Fatalf("reject: %d\n%s", r.status, r.body)
	}
	if rec := e.record("m1"); rec.State != hold.StateRejected || rec.DecidedBy.Name != "ciso@example.com" || e.releases.Load() != 0 {
		t.Fatalf("%+v", rec)
	}
}
