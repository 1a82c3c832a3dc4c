package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wantProblem is one expected problem: its line and a substring.
type wantProblem struct {
	line int
	rule string
	msg  string
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []wantProblem
	}{
		{"syntax", "rules:\n  - name: a\n    when: [unclosed\n", []wantProblem{{3, "", "did not find expected ',' or ']'"}}},
		{"empty", "", []wantProblem{{0, "", "empty policy"}}},
		{"not a mapping", "- a\n- b\n", []wantProblem{{1, "", "top level must be a mapping"}}},
		{"no rules", "version: 1\n", []wantProblem{{1, "", "missing rules list"}}},
		{"bad version and key", "version: 2\nrulez: []\nrules: []\n", []wantProblem{{1, "", "version must be 1"}, {2, "", `unknown key "rulez"`}}},
		{"rules not a list", "rules: {a: 1}\n", []wantProblem{{1, "", "rules must be a list"}}},
		{"every problem at once", `version: 1
rules:
  - name: bad-cel
    when: recipients.externals > 0
    actions: [hold_sender]
    reason: {en: x}
  - name: not-bool
    when: recipients.external
    actions: [deliver]
  - name: combo
    when: "true"
    continue: true
    actions: [reject, hold_sender, hold_review, teleport]
    reason: {ja: 拒否}
  - when: size(attachments) > 5
    actions: [deliver]
  - name: bad-params
    when: size(attachments) > 0
    actions: [encrypt, link, delay]
    params:
      encrypt_password: nobody
      approvers: [not an address]
      colour: red
    reason: {en: x}
    priority: 3
  - name: bad-cel
    when: undefined_thing && finding(1) > 0
    actions: [bcc]
    reason: {en: x}
`, []wantProblem{
			{4, "bad-cel", "undefined field 'externals'"},
			{8, "not-bool", "must be a boolean condition"},
			{13, "combo", "unknown action \"teleport\""},
			{13, "combo", "reject cannot be combined"},
			{13, "combo", "only one hold kind per rule, got hold_sender and hold_review"},
			{14, "combo", "reject needs reason.en"},
			{15, "", "rule without a name"},
			{19, "bad-params", "encrypt and link"},
			{21, "bad-params", "delay action needs delay_minutes"},
			{21, "bad-params", "encrypt_password must be sender, recipient or preset"},
			{22, "bad-params", "approvers need the hold_approver action"},
			{22, "bad-params", "approver \"not an address\" is not an address"},
			{23, "bad-params", "params: unknown key \"colour\""},
			{25, "bad-params", "unknown key \"priority\""},
			{26, "bad-cel", "duplicate rule name (first at line 3)"},
			{27, "bad-cel", "undeclared reference to 'undefined_thing'"},
			{27, "bad-cel", "found no matching overload for 'finding'"},
		}},
		{"multi-line conditions", `rules:
  - name: folded
    when: >-
      recipients.external > 0 &&
      nosuch > 1
    actions: [hold_sender]
    reason: {en: x}
  - name: literal
    when: |
      recipients.external > 0 &&
        size(attachments) > 0 &&
        bogus()
    actions: [hold_sender]
    reason: {en: x}
  - name: plain
    when: recipients.external > 0
      || missing
    actions: [hold_sender]
    reason: {en: x}
`, []wantProblem{
			{5, "folded", "undeclared reference to 'nosuch'"},
			{12, "literal", "undeclared reference to 'bogus'"},
			{17, "plain", "undeclared reference to 'missing'"},
		}},
		{"unreachable and reasons", `rules:
  - name: all
    when: "true"
    actions: [hold_sender]
  - name: later
    when: size(attachments) > 0
    actions: [reject]
    reason: {en: "Rejected: 添付"}
  - name: delay-range
    when: "true"
    actions: [delay]
    params: {delay_minutes: 0}
    reason: {en: wait}
  - name: block-list
    when: "false"
    actions:
      - bcc
      - hold
      - bcc
    reason: {en: x}
`, []wantProblem{
			{18, "block-list", `unknown action "hold"`},
			{19, "block-list", "bcc listed twice"},
			{14, "block-list", "unreachable"},
			{2, "all", "needs a reason"},
			{5, "later", `unreachable: rule "all" before it always matches`},
			{8, "later", "printable ASCII"},
			{9, "delay-range", "unreachable"},
			{12, "delay-range", "delay_minutes must be between 1 and 10080"},
		}},
		{"misc", `rules:
  - name: Bad Name
    when: size(attachments) > 0
    continue: maybe
    actions: []
    reason: [plain, text]
  - name: x
    when: ""
    actions: [bcc, bcc]
    params: {delay_minutes: 5, encrypt_password: sender}
    reason: {en: x}
    name: y
`, []wantProblem{
			{2, "Bad Name", "name must be lower-case"},
			{4, "Bad Name", "continue: cannot unmarshal"},
			{5, "Bad Name", "at least one action"},
			{6, "Bad Name", "reason must be a mapping"},
			{8, "y", "when is required"},
			{9, "y", "bcc listed twice"},
			{10, "y", "delay_minutes needs the delay action"},
			{10, "y", "encrypt_password needs the encrypt action"},
			{12, "y", `duplicate key "name"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse error = %v, want *LoadError", err)
			}
			used := make([]bool, len(le.Problems))
		next:
			for _, w := range tt.want {
				for i, p := range le.Problems {
					if !used[i] && p.Line == w.line && p.Rule == w.rule && strings.Contains(p.Msg, w.msg) {
						used[i] = true
						continue next
					}
				}
				t.Errorf("missing problem line %d rule %q containing %q", w.line, w.rule, w.msg)
			}
			for i, p := range le.Problems {
				if !used[i] {
					t.Errorf("unexpected problem: %v", p)
				}
			}
			if t.Failed() {
				t.Logf("all problems:\n%v", err)
			}
		})
	}
}

func TestProblemFormat(t *testing.T) {
	_, err := Parse("policy.yaml", []byte("rules:\n  - name: a\n    when: nope\n    actions: [deliver]\n"))
	if err == nil {
		t.Fatal("want error")
	}
	want := `policy.yaml:3: rule "a": when: undeclared reference to 'nope'`
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	var p *Problem
	if !errors.As(err, &p) || p.Line != 3 {
		t.Fatalf("errors.As(*Problem) = %+v", p)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := Default()
	if !slices.Equal(p.RuleNames(), def.RuleNames()) {
		t.Fatalf("rules = %q", p.RuleNames())
	}
	info := p.Rules()
	ea := slices.Index(p.RuleNames(), "external-attachment")
	if info[ea].Name != "external-attachment" || info[ea].When != "recipients.external > 0 && size(attachments) > 0" ||
		info[ea].Params.EncryptPassword != "sender" || info[ea].Reason.JA == "" || info[0].When == "" {
		t.Fatalf("Rules()[%d] = %+v", ea, info[ea])
	}
	info[ea].Actions[0] = "deliver"
	if p.Rules()[ea].Actions[0] != "encrypt" {
		t.Fatal("Rules exposes internal slices")
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want ErrNotExist", err)
	}
}
