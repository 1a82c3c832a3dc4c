package console

import (
	"context"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
)

// The message page of an N-of-M approver hold shows its approvers and
// how many of the approvals required are in.
func TestMessageShowsApprovals(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	id := e.seed(msg{subject: "見積", kind: hold.KindApprover, approvers: []string{"boss@example.com", "cfo@example.com"}, required: 2,
		standIns: map[string]string{"cfo@example.com": "ceo@example.com"}})
	if _, err := e.hold.Approve(context.Background(), id, hold.Actor{Name: "cfo@example.com", Role: "approver"}, ""); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login("vera")
	r := c.get("/console/msg/" + id + "?lang=en")
	for _, want := range []string{`id="msg-approvers"`, "boss@example.com", "1 of 2 approvals", "(deputy of ceo@example.com, who is away)", "✓ <span class=\"addr\">cfo@example.com</span>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("message page lacks %q\n%s", want, r.body[strings.Index(r.body, "msg-approvers"):][:600])
		}
	}
	// A one-approval hold shows no count.
	one := e.seed(msg{subject: "x", kind: hold.KindApprover, approvers: []string{"boss@example.com"}})
	if r := c.get("/console/msg/" + one + "?lang=en"); strings.Contains(r.body, "approvals") || !strings.Contains(r.body, `id="msg-approvers"`) {
		t.Errorf("one-approval hold page:\n%s", r.body)
	}
}
