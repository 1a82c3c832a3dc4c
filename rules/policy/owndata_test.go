package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

func TestDefaultPolicyOwnData(t *testing.T) {
	t.Parallel()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	mismatch := func(r *rules.Report) {
		r.Findings = append(r.Findings, rules.Finding{Detector: "addressee_mismatch", Count: 1, Location: "attachment:見積書.xlsx",
			Samples: []string{"株式会社A", "B商事株式会社 (b.example.jp)"}})
	}
	edmRecs := func(n int) reportOpt {
		return func(r *rules.Report) {
			r.Findings = append(r.Findings, rules.Finding{Detector: "edm", Count: n, Records: n, Location: "body",
				Samples: []string{"name+phone (1)"}})
		}
	}
	for _, tt := range []struct {
		name    string
		report  *rules.Report
		actions []string
		rules   []string
		reason  string
	}{
		// once the sender confirms, the attachment still leaves encrypted
		{"mismatch", synth(external(1, 1), mismatch, attachment("見積書.xlsx")), []string{"hold_sender", "encrypt"},
			[]string{"addressee-mismatch", "external-attachment"}, "宛名は株式会社Aですが、宛先はB商事株式会社 (b.example.jp)のドメインです"},
		{"one own record outside", synth(external(1, 1), edmRecs(1)), []string{"hold_sender"}, []string{"own-records-external", "default"}, "name+phone (1)"},
		{"own records and a mismatch", synth(external(1, 1), edmRecs(2), mismatch), []string{"hold_sender"},
			[]string{"own-records-external", "addressee-mismatch", "default"}, "name+phone (1)"},
		{"own records inside", synth(edmRecs(3)), []string{"deliver"}, []string{"default"}, ""},
		{"50 own records outside", synth(external(1, 1), edmRecs(50)), []string{"hold_review"}, []string{"pii-external"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(tt.report)
			if !reflect.DeepEqual(d.Actions, tt.actions) || !reflect.DeepEqual(d.Rules, tt.rules) {
				t.Fatalf("decision %+v, want %v by %v", d, tt.actions, tt.rules)
			}
			if tt.reason != "" && !strings.Contains(d.Reasons[0].JA, tt.reason) {
				t.Fatalf("reason %q lacks %q", d.Reasons[0].JA, tt.reason)
			}
			for _, r := range d.Reasons {
				if strings.Contains(r.JA+r.EN, "{finding:") {
					t.Fatalf("placeholder left in %+v", r)
				}
			}
		})
	}
}
