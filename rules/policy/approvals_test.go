package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
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

// The default mass-exposure rule reads the sender's group allowances and
// is the plain 10-address / 5-domain rule without them.
func TestDefaultMassExposureAllowance(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	visible := func(n, domains int, sd *rules.SenderDirectory) *rules.Report {
		r := &rules.Report{Sender: "s@example.com", SenderDirectory: sd}
		r.Recipients.External, r.Recipients.VisibleExternal, r.Recipients.Total = n, n, n
		for i := range domains {
			r.Recipients.VisibleExternalDomains = append(r.Recipients.VisibleExternalDomains, fmt.Sprintf("d%d.test", i))
		}
		return r
	}
	sales := &rules.SenderDirectory{Status: "found", Groups: []string{"営業部"},
		Allowances: map[string]int{"visible_external": 30, "visible_external_domains": 10}}
	other := &rules.SenderDirectory{Status: "found", Groups: []string{"経理部"}}
	for _, c := range []struct {
		name       string
		n, domains int
		sd         *rules.SenderDirectory
		held       bool
	}{
		{"9 without directory", 9, 1, nil, false},
		{"10 without directory", 10, 1, nil, true},
		{"5 domains without directory", 5, 5, nil, true},
		{"4 domains", 4, 4, other, false},
		{"10 outside sales", 10, 1, other, true},
		{"30 in sales", 30, 10, sales, false},
		{"31 in sales", 31, 1, sales, true},
		{"11 domains in sales", 11, 11, sales, true},
	} {
		d := p.Evaluate(visible(c.n, c.domains, c.sd))
		if got := slices.Contains(d.Rules, "mass-exposure"); got != c.held {
			t.Errorf("%s: rules %v", c.name, d.Rules)
		}
	}
}
