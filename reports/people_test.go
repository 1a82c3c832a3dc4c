package reports

import (
	"slices"
	"testing"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// The people count and data items survive storage, so a replayed
// people() rule sees what the live one saw; the section costs a few bytes.
func TestPeopleStored(t *testing.T) {
	rep := &rules.Report{Sender: "a@example.com", Size: 1000, People: 23456, PeopleApproximate: true,
		DataItems:  []string{"氏名", "マイナンバー"},
		Recipients: rules.Recipients{Total: 1, External: 1, ExternalDomains: []string{"partner.test"}}}
	d := &policy.Decision{Actions: []string{"deliver"}}
	without := *rep
	without.People, without.PeopleApproximate, without.DataItems = 0, false, nil
	base := len(Marshal(FromAnalysis("Q1", time.Unix(0, 0), &without, d)))
	raw := Marshal(FromAnalysis("Q1", time.Unix(0, 0), rep, d))
	got, err := Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	back := got.ToRules()
	if back.People != 23456 || !back.PeopleApproximate || !slices.Equal(back.DataItems, rep.DataItems) {
		t.Fatalf("decoded %d %v %v", back.People, back.PeopleApproximate, back.DataItems)
	}
	if extra := len(raw) - base; extra > 48 {
		t.Errorf("people section costs %d bytes", extra)
	}
	t.Logf("report %d bytes, people section %d bytes", len(raw), len(raw)-base)
	p, err := policy.Parse("p.yaml", []byte("version: 1\nrules:\n  - name: ppc\n    when: people() >= 1000 && \"マイナンバー\" in data_items\n    actions: [hold_review]\n    reason: {ja: 報告対象, en: reportable}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if dec := p.Evaluate(back); !slices.Equal(dec.Actions, []string{"hold_review"}) {
		t.Errorf("replayed people() rule: %v", dec.Actions)
	}
}
