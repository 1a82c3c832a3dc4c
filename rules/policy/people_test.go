package policy

import (
	"slices"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// people() is the report's people count: a rule can hold what would have
// to be reported to the PPC.
func TestPeopleHelper(t *testing.T) {
	p, err := Parse("people.yaml", []byte(`version: 1
rules:
  - name: ppc-scale
    when: recipients.external > 0 && (people() >= 1000 || "マイナンバー" in data_items)
    actions: [hold_review]
    reason: {ja: 個人情報保護委員会への報告対象となる規模です。, en: A leak of this size must be reported to the PPC.}
  - name: default
    when: "true"
    actions: [deliver]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		people int
		items  []string
		want   string
	}{{999, []string{"氏名"}, "deliver"}, {1000, []string{"氏名"}, "hold_review"}, {1, []string{"マイナンバー"}, "hold_review"}} {
		rep := &rules.Report{Recipients: rules.Recipients{External: 1}, People: c.people, DataItems: c.items}
		if d := p.Evaluate(rep); !slices.Equal(d.Actions, []string{c.want}) {
			t.Errorf("people %d %v: %v, want %s", c.people, c.items, d.Actions, c.want)
		}
	}
}
