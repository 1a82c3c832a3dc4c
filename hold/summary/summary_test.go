package summary

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

func TestSummary(t *testing.T) {
	rec := &hold.Record{ID: "x", Kind: hold.KindSender, Decision: hold.Decision{Rules: []string{"lookalike"}}}
	rep := &rules.Report{
		Recipients: rules.Recipients{
			Lookalike: []rules.Lookalike{{Address: "a@exarnple.com", Resembles: "example.com"}},
			List: []rules.Recipient{
				{Address: "B@Example.com", Field: "to", Domain: "example.com"},
				{Address: "a@exarnple.com", Field: "to", Domain: "exarnple.com"}, // look-alike, marked internal by mistake
				{Address: "c@partner.jp", Field: "cc", Domain: "partner.jp", External: true},
				{Address: "c@partner.jp", Field: "bcc", Domain: "partner.jp", External: true, Envelope: true},
			},
		},
		Findings: []rules.Finding{
			{Detector: "mynumber", Count: 1, Location: "attachment:a.zip/b.csv", Samples: []string{"1234********"}, Values: []string{"123456789018"}},
			{Detector: "keyword", Count: 1, Location: "body"},
			{Detector: "credit_card", Count: 1, Location: "attachment:gone.txt"},
		},
		Attachments: []rules.Attachment{
			{Name: "a.zip", Location: "attachment:a.zip"},
			{Name: "b.csv", Location: "attachment:a.zip/b.csv", Depth: 1},
		},
	}
	s := Of(rec, rep)
	var names []string
	for _, g := range s.Domains {
		names = append(names, g.Domain)
	}
	if !slices.Equal(names, []string{"exarnple.com", "partner.jp", "example.com"}) {
		t.Errorf("domains %v", names)
	}
	if s.Total != 3 || s.External != 2 || s.ExternalDomains != 2 {
		t.Errorf("counts %d/%d/%d", s.Total, s.External, s.ExternalDomains)
	}
	if s.Domains[0].Resembles != "example.com" || !s.Domains[0].External {
		t.Errorf("look-alike group %+v", s.Domains[0])
	}
	if got := s.Acks(); !slices.Equal(got, []string{"d:exarnple.com", "d:partner.jp", "a:0"}) {
		t.Errorf("acks %v", got)
	}
	if len(s.Attachments[1].Findings) != 1 || len(s.BodyFindings) != 1 || len(s.OtherFindings) != 1 {
		t.Errorf("findings placed wrong: %+v", s)
	}
	if s.MassExposure {
		t.Error("mass exposure without the rule or the numbers")
	}
	rec.Decision.Rules = []string{"mass-exposure"}
	if !Of(rec, rep).MassExposure {
		t.Error("mass-exposure rule not seen")
	}
}

func TestWhyPerLanguageWithoutDuplicatesOrRawNames(t *testing.T) {
	c, err := templates.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	rec := &hold.Record{Kind: hold.KindApprover, Decision: hold.Decision{
		Rules: []string{"pii-external", "hr-to-outside", "lookalike", "twin"},
		Localized: []hold.Reason{
			{Rule: "pii-external", JA: "個人情報です。", EN: "Personal data."},
			{Rule: "lookalike", JA: "似たドメインです。"}, // no English given
			{Rule: "twin", JA: "個人情報です。", EN: "Personal data."},
		},
	}}
	s := Of(rec, nil)
	en := c.Why("en", s)
	wantEN := []string{"Personal data.", c.T("en", "why.kind.approver"), "似たドメインです。"}
	if !reflect.DeepEqual(en, wantEN) {
		t.Errorf("why(en) = %q, want %q", en, wantEN)
	}
	ja := c.Why("ja", s)
	wantJA := []string{"個人情報です。", c.T("ja", "why.kind.approver"), "似たドメインです。"}
	if !reflect.DeepEqual(ja, wantJA) {
		t.Errorf("why(ja) = %q, want %q", ja, wantJA)
	}
	for _, l := range append(en, ja...) {
		if strings.Contains(l, "hr-to-outside") {
			t.Errorf("raw rule name shown: %q", l)
		}
	}
	// A record stored before reasons were kept per language.
	old := &hold.Record{Kind: hold.KindReview, Decision: hold.Decision{Rules: []string{"x"}, Reasons: []string{"古い理由"}}}
	if got := c.Why("en", Of(old, nil)); !reflect.DeepEqual(got, []string{c.T("en", "why.kind.review"), "古い理由"}) {
		t.Errorf("legacy why = %q", got)
	}
	// A built-in rule without a policy reason uses the catalog.
	if got := c.Why("ja", Of(&hold.Record{Kind: hold.KindSender, Decision: hold.Decision{Rules: []string{"lookalike"}}}, nil)); !reflect.DeepEqual(got, []string{c.T("ja", "rule.lookalike")}) {
		t.Errorf("catalog rule = %q", got)
	}
}
