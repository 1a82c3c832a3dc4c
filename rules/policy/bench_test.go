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

// nativeDefault is the default policy hand-written in Go: the baseline the
// CEL evaluation is measured against.
func nativeDefault(r *rules.Report) []string {
	ext := r.Recipients.External > 0
	switch {
	case ext && (findingCount(r, "mynumber", "") > 0 || findingCount(r, "credit_card", "") > 0 || maxRecords(r) >= 50):
		return []string{rules.ActionHoldReview}
	case len(r.Recipients.Lookalike) > 0:
		return []string{rules.ActionHoldSender}
	case r.Recipients.VisibleExternal >= 10 || len(r.Recipients.VisibleExternalDomains) >= 5:
		return []string{rules.ActionHoldSender}
	case ext && len(r.Attachments) > 0:
		return []string{rules.ActionEncrypt}
	}
	return []string{rules.ActionDeliver}
}

func BenchmarkEvaluateNativeBaseline(b *testing.B) {
	r := benchReport()
	if got := nativeDefault(r); got[0] != rules.ActionEncrypt {
		b.Fatalf("baseline decided %v", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		nativeDefault(r)
	}
}

func BenchmarkEvaluateExample(b *testing.B) {
	p, err := Load("../../testdata/policy/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	r := benchReport()
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(r)
	}
}

func BenchmarkParseDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateListScan walks a 1,000-recipient list in CEL: the cost of
// a comprehension over native Go values.
func BenchmarkEvaluateListScan(b *testing.B) {
	p, err := Parse("scan.yaml", []byte(`rules:
  - name: gov
    when: recipients.list.exists(r, r.external && r.domain.endsWith(".go.jp"))
    actions: [hold_sender]
    reason: {en: government}
`))
	if err != nil {
		b.Fatal(err)
	}
	r := benchReport()
	for i := range 1000 {
		r.Recipients.List = append(r.Recipients.List, rules.Recipient{
			Address: "u@x.example", Domain: "x.example", Field: "to", External: i%2 == 0, Envelope: true,
		})
	}
	if d := p.Evaluate(r); !d.Has(rules.ActionDeliver) {
		b.Fatalf("decided %v", d.Actions)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(r)
	}
}
