package policy

import (
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// The directory fields sit beside sender, which stays a string.
func TestSenderDirectoryFields(t *testing.T) {
	p := mustParse(t, `rules:
  - name: accounting-external
    when: '"経理部" in sender.groups && recipients.external > 0 && sender.endsWith("@example.com")'
    actions: [hold_approver]
    reason: {en: accounting}
  - name: sales-many
    when: sender.department == "営業部" && recipients.external > 30
    actions: [hold_sender]
    reason: {en: sales}
  - name: directory-down
    when: sender.directory == "unavailable" && recipients.external > 0
    actions: [hold_review]
    reason: {en: unknown sender}
  - name: no-manager
    when: sender.directory == "found" && sender.manager == "" && recipients.external > 0
    actions: [hold_review]
    reason: {en: no manager}
`)
	cases := []struct {
		name string
		sd   *rules.SenderDirectory
		ext  int
		want string
	}{
		{"group member", &rules.SenderDirectory{Status: "found", Groups: []string{"全社員", "経理部"}, Manager: "b@example.com"}, 1, "accounting-external"},
		{"not in group", &rules.SenderDirectory{Status: "found", Groups: []string{"全社員"}, Manager: "b@example.com"}, 1, ""},
		{"sales few", &rules.SenderDirectory{Status: "found", Department: "営業部", Manager: "b@example.com"}, 30, ""},
		{"sales many", &rules.SenderDirectory{Status: "found", Department: "営業部", Manager: "b@example.com"}, 31, "sales-many"},
		{"down", &rules.SenderDirectory{Status: "unavailable"}, 1, "directory-down"},
		{"no manager", &rules.SenderDirectory{Status: "found"}, 1, "no-manager"},
		{"no directory", nil, 1, ""},
	}
	for _, c := range cases {
		r := &rules.Report{Sender: "Kei@Example.com", SenderDirectory: c.sd}
		r.Recipients.External = c.ext
		d := p.Evaluate(r)
		if len(d.Errors) > 0 {
			t.Fatalf("%s: %v", c.name, d.Errors)
		}
		got := ""
		if len(d.Rules) > 0 {
			got = d.Rules[0]
		}
		if got != c.want {
			t.Errorf("%s: rule %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := Parse("bad.yaml", []byte("rules:\n  - name: x\n    when: sender.title == \"x\"\n    actions: [deliver]\n")); err == nil {
		t.Error("an unknown sender field compiled")
	}
}
