package policy

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// Policies name dictionaries by level or name and custom patterns by name.
func TestFindingNamesDictionariesAndPatterns(t *testing.T) {
	r := synth(func(r *rules.Report) {
		r.Findings = []rules.Finding{
			{Detector: "keyword", Count: 2, Location: "subject", Dictionary: "confidential", Level: "confidential"},
			{Detector: "keyword", Count: 1, Location: "body", Dictionary: "projects", Level: "confidential"},
			{Detector: "keyword", Count: 3, Location: "attachment:a.docx", Dictionary: "internal", Level: "internal"},
			{Detector: "pattern:project_code", Count: 4, Location: "filename:PRJ-0001.xlsx"},
			{Detector: "pattern:employee_id", Count: 5, Location: "body"},
		}
	})
	for _, tt := range []struct {
		expr string
		want bool
	}{
		{`finding("keyword") == 6`, true},
		{`finding("keyword:confidential") == 3`, true},
		{`finding("keyword:projects") == 1`, true},
		{`finding("keyword:internal") == 3`, true},
		{`finding("keyword:secret") == 0`, true},
		{`finding("keyword:confidential", "subject") == 2`, true},
		{`finding("pattern:project_code") == 4`, true},
		{`finding("pattern:project_code", "filename:") == 4`, true},
		{`finding("pattern") == 9`, true},
		{`finding("pattern:nope") == 0`, true},
	} {
		p := mustParse(t, "rules:\n  - name: r\n    when: '"+strings.ReplaceAll(tt.expr, "'", "''")+"'\n    actions: [hold_sender]\n    reason: {en: x}\n")
		d := p.Evaluate(r)
		if got := d.Has(rules.ActionHoldSender); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
