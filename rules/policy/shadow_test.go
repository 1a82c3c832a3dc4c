package policy

import (
	"reflect"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

const shadowPolicy = `rules:
  - name: try-strict
    mode: shadow
    when: recipients.external > 0
    actions: [hold_review]
    reason: {en: trial}
  - name: broken-shadow
    mode: shadow
    when: attachments[5].size > 0
    actions: [reject]
    reason: {en: never enforced}
  - name: pii
    when: finding("mynumber") > 0
    actions: [hold_sender]
    reason: {en: pii}
  - name: after
    mode: shadow
    when: "true"
    actions: [bcc]
    reason: {en: after}
`

func TestShadowRulesRecordWithoutEnforcing(t *testing.T) {
	p := mustParse(t, shadowPolicy)
	ext := &rules.Report{Recipients: rules.Recipients{External: 1}}
	d := p.Evaluate(ext)
	if !reflect.DeepEqual(d.Actions, []string{rules.ActionDeliver}) || len(d.Rules) != 0 {
		t.Fatalf("shadow matches changed the decision: %+v", d)
	}
	want := []Shadow{{Rule: "try-strict", Actions: []string{"hold_review"}}, {Rule: "after", Actions: []string{"bcc"}}}
	if !reflect.DeepEqual(d.Shadow, want) {
		t.Fatalf("shadow = %+v, want %+v", d.Shadow, want)
	}
	if len(d.Errors) != 1 {
		t.Fatalf("the failing shadow condition is not listed: %v", d.Errors)
	}

	// A live rule that ends evaluation ends it for shadow rules too.
	pii := &rules.Report{Findings: []rules.Finding{{Detector: "mynumber", Count: 1, Location: "body"}}}
	d = p.Evaluate(pii)
	if !reflect.DeepEqual(d.Actions, []string{rules.ActionHoldSender}) || !reflect.DeepEqual(d.Rules, []string{"pii"}) {
		t.Fatalf("live rule: %+v", d)
	}
	if len(d.Shadow) != 0 {
		t.Fatalf("shadow after a final rule: %+v", d.Shadow)
	}
	if !p.Rules()[0].Shadow || p.Rules()[2].Shadow {
		t.Fatal("RuleInfo.Shadow")
	}
}

func TestShadowModeValidation(t *testing.T) {
	_, err := Parse("p.yaml", []byte("rules:\n  - name: a\n    mode: dry\n    when: \"true\"\n    actions: [deliver]\n"))
	if err == nil {
		t.Fatal("unknown mode accepted")
	}
	// A shadow rule that always matches does not make later rules unreachable.
	mustParse(t, "rules:\n  - name: a\n    mode: shadow\n    when: \"true\"\n    actions: [hold_review]\n    reason: x\n  - name: b\n    when: \"true\"\n    actions: [deliver]\n")
}
