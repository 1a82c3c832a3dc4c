package policy

import (
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// benchReport is a typical external message with one attachment: every
// default rule up to external-attachment is evaluated.
func benchReport() *rules.Report {
	return &rules.Report{
		Recipients: rules.Recipients{
			Total: 3, External: 2, VisibleExternal: 2,
			VisibleExternalDomains: []string{"partner.co.jp"},
			ExternalDomains:        []string{"bcc-only.example.net", "partner.co.jp"},
			Lookalike:              []rules.Lookalike{},
			FirstTimeDomains:       []string{},
		},
		Findings: []rules.Finding{
			{Detector: "jp_phone", Count: 3, Location: "body"},
			{Detector: "email_address", Count: 5, Location: "attachment:a.csv", Records: 12},
		},
		Attachments: []rules.Attachment{{Name: "a.csv", Location: "attachment:a.csv", Size: 2048}},
		Sender:      "alice@example.com",
	}
}

func BenchmarkEvaluateDefault(b *testing.B) {
	p, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	r := benchReport()
	if d := p.Evaluate(r); !d.Has(rules.ActionEncrypt) {
		b.Fatalf("benchmark report decided %v, want encrypt", d.Actions)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(r)
	}
}
