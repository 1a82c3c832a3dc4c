package policy

import (
	"strings"
	"testing"
)

func TestApprovalsRequiredChecked(t *testing.T) {
	for _, c := range []struct{ params, want string }{
		{"{approvals_required: 2}", ""},
		{"{approvals_required: 11}", "approvals_required must be between 1 and 10"},
		{"{approvals_required: -1}", "approvals_required must be between 1 and 10"},
		{"{approvers: [a@example.com], approvals_required: 2}", "approvals_required 2 is more than the 1 approvers named"},
	} {
		y := "rules:\n  - name: r\n    when: \"true\"\n    actions: [hold_approver]\n    params: " + c.params + "\n    reason: {en: x}\n"
		_, err := Parse("p.yaml", []byte(y))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), ":5:")) {
			t.Errorf("%s: %v", c.params, err)
		}
	}
	y := "rules:\n  - name: r\n    when: \"true\"\n    actions: [hold_review]\n    params: {approvals_required: 2}\n    reason: {en: x}\n"
	if _, err := Parse("p.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), "needs the hold_approver action") {
		t.Errorf("without hold_approver: %v", err)
	}
}
