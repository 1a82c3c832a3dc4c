package policy

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// behaviourPolicy has one rule per helper so each can be asked alone.
func behaviourRule(t *testing.T, when string) *Policy {
	t.Helper()
	src := "version: 1\nrules:\n  - name: r\n    when: '" + when + "'\n    actions: [hold_review]\n    reason: x\n"
	p, err := Parse("b.yaml", []byte(src))
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	return p
}

func matches(t *testing.T, p *Policy, r *rules.Report) bool {
	t.Helper()
	d := p.Evaluate(r)
	if len(d.Errors) > 0 {
		t.Fatalf("errors: %v", d.Errors)
	}
	return len(d.Rules) == 1 && d.Rules[0] == "r"
}

func withBehaviour(b *rules.SenderBehaviour, ext int, attBytes ...int64) *rules.Report {
	r := synth(external(ext, min(ext, 1)))
	if ext == 0 {
		r = synth()
	}
	for i, n := range attBytes {
		r.Attachments = append(r.Attachments, rules.Attachment{Name: "a" + string(rune('0'+i)) + ".xlsx", Size: n})
	}
	r.SenderBehaviour = b
	return r
}

func TestBehaviourHelpers(t *testing.T) {
	est := func() *rules.SenderBehaviour {
		return &rules.SenderBehaviour{Days: 20, Messages: 300, Established: true, Hour: 3, HourShare: 0.01,
			HourMessages: 9, PerHour: 2, DayExternal: 3, PerDayExternal: 4, DayAttachmentBytes: 1 << 20,
			PerDayAttachmentBytes: 2 << 20, ExternalAttachments: 5}
	}
	learning := est()
	learning.Established, learning.Days = false, 2
	usual := est()
	usual.HourShare = 0.3
	never := est()
	never.ExternalAttachments = 0

	for _, tc := range []struct {
		when string
		r    *rules.Report
		want bool
	}{
		{"sender.unusual_hour()", withBehaviour(est(), 1), true},
		{"sender.unusual_hour()", withBehaviour(usual, 1), false},
		{"sender.unusual_hour()", withBehaviour(learning, 1), false},
		{"sender.unusual_hour()", withBehaviour(nil, 1), false},
		// (9+1)/2 = 5
		{"sender.volume_ratio() == 5.0", withBehaviour(est(), 1), true},
		{"sender.volume_ratio(\"messages\") == 5.0", withBehaviour(est(), 1), true},
		// (3+2)/4
		{"sender.volume_ratio(\"external_recipients\") == 1.25", withBehaviour(est(), 2), true},
		// (1 MiB + 7 MiB) / 2 MiB
		{"sender.volume_ratio(\"external_attachment_bytes\") == 4.0", withBehaviour(est(), 1, 7<<20), true},
		// internal mail adds no external bytes
		{"sender.volume_ratio(\"external_attachment_bytes\") == 0.5", withBehaviour(est(), 0, 7<<20), true},
		{"sender.volume_ratio() == 0.0", withBehaviour(learning, 1), true},
		{"sender.volume_ratio() == 0.0", withBehaviour(nil, 1), true},
		{"sender.first_external_attachment()", withBehaviour(never, 1, 100), true},
		{"sender.first_external_attachment()", withBehaviour(est(), 1, 100), false},
		{"sender.first_external_attachment()", withBehaviour(never, 0, 100), false},
		{"sender.first_external_attachment()", withBehaviour(never, 1), false},
		{"sender.history_days() == 20", withBehaviour(est(), 1), true},
		{"sender.history_days() == 0", withBehaviour(nil, 1), true},
		// the directory fields still read as before beside the helpers
		{"sender.department == \"\" && sender.endsWith(\"example.com\")", withBehaviour(est(), 1), true},
	} {
		p := behaviourRule(t, tc.when)
		tc.r.Sender = "a@example.com"
		if got := matches(t, p, tc.r); got != tc.want {
			t.Errorf("%s on %+v: %v, want %v", tc.when, tc.r.SenderBehaviour, got, tc.want)
		}
	}
}

func TestVolumeRatioUnknownKind(t *testing.T) {
	// A constant kind is checked when the policy loads, with its line.
	_, err := Parse("b.yaml", []byte("version: 1\nrules:\n  - name: r\n    when: 'sender.volume_ratio(\"bytes\") > 1.0'\n    actions: [hold_review]\n    reason: x\n"))
	if err == nil || !strings.Contains(err.Error(), `b.yaml:4: rule "r": when: sender.volume_ratio: unknown kind "bytes"`) {
		t.Fatalf("load: %v", err)
	}
	// A computed one fails at run time, listed in the decision.
	p := behaviourRule(t, `sender.volume_ratio("by" + "tes") > 1.0`)
	d := p.Evaluate(withBehaviour(&rules.SenderBehaviour{Established: true}, 1))
	if len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "unknown kind") {
		t.Fatalf("errors %v", d.Errors)
	}
}

// The default late-night rule is a shadow rule: it records, the live
// decision (encrypt) stays.
func TestDefaultLateNightRuleIsShadow(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	night := &rules.SenderBehaviour{Days: 30, Messages: 600, Established: true, Hour: 2, HourShare: 0.001,
		PerHour: 2, PerDayExternal: 5, PerDayAttachmentBytes: 2 << 20, ExternalAttachments: 40}
	day := *night
	day.HourShare = 0.4
	learning := *night
	learning.Established = false
	for _, tc := range []struct {
		name   string
		b      *rules.SenderBehaviour
		size   int64
		shadow bool
	}{
		{"night, 5x bytes", night, 10 << 20, true},
		{"night, usual bytes", night, 1 << 20, false},
		{"day, 5x bytes", &day, 10 << 20, false},
		{"learning", &learning, 10 << 20, false},
		{"no baseline", nil, 10 << 20, false},
	} {
		r := synth(external(1, 1), attachmentSized("export.zip", tc.size))
		r.SenderBehaviour = tc.b
		d := p.Evaluate(r)
		got := len(d.Shadow) == 1 && d.Shadow[0].Rule == "late-night-external-bulk" && d.Shadow[0].Actions[0] == "hold_review"
		if got != tc.shadow || len(d.Shadow) > 1 {
			t.Errorf("%s: shadow %+v", tc.name, d.Shadow)
		}
		if len(d.Actions) != 1 || d.Actions[0] != "encrypt" {
			t.Errorf("%s: live actions %v, want [encrypt]", tc.name, d.Actions)
		}
	}
}
