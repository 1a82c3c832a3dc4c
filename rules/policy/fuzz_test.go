package policy

import (
	"errors"
	"os"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// FuzzParse feeds arbitrary policy files to the loader: it must either
// return a *LoadError naming the file, or a policy that evaluates without
// panicking and decides at least one known action.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	if b, err := os.ReadFile("../../testdata/policy/example.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(continuePolicy))
	f.Add([]byte("rules:\n  - name: a\n    when: finding(\"x\") > 0 ||\n      max_records() > 3\n    actions: [reject]\n    reason: {en: no}\n"))
	f.Add([]byte("rules: [{name: a, when: 'attachments[0].size > 1', actions: [delay], params: {delay_minutes: 3}, reason: {en: x}}]"))
	reports := []reportOpt{
		external(3, 2), finding("mynumber", 1, 60, "attachment:a.csv"), attachment("a.exe"), lookalike("a@exarnple.com"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8192 {
			return
		}
		p, err := Parse("f.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("error %v is not a LoadError with problems", err)
			}
			for _, pr := range le.Problems {
				if pr.File != "f.yaml" || pr.Msg == "" || pr.Line < 0 {
					t.Fatalf("bad problem %+v", pr)
				}
			}
			return
		}
		for _, r := range []*rules.Report{synth(), synth(reports...)} {
			d := p.Evaluate(r)
			if len(d.Actions) == 0 {
				t.Fatalf("no action decided: %+v", d)
			}
			for _, a := range d.Actions {
				if actionIndex(a) < 0 {
					t.Fatalf("unknown action %q", a)
				}
			}
			if d.Has(rules.ActionReject) && len(d.Actions) != 1 {
				t.Fatalf("reject combined: %v", d.Actions)
			}
		}
	})
}
