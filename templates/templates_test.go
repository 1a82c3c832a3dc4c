package templates

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// TestCatalogsComplete checks that both catalogs have the same keys and
// that every literal key a template asks for exists.
func TestCatalogsComplete(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	en, ja := c.Keys("en"), c.Keys("ja")
	if !slices.Equal(en, ja) {
		for _, k := range en {
			if !c.Has("ja", k) {
				t.Errorf("ja lacks %s", k)
			}
		}
		for _, k := range ja {
			if !c.Has("en", k) {
				t.Errorf("en lacks %s", k)
			}
		}
	}
	lit := regexp.MustCompile(`\.T "([^"]+)"`)
	err = fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".tmpl")) {
			return err
		}
		b, err := fs.ReadFile(FS, path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !c.Has("en", m[1]) {
				t.Errorf("%s asks for missing key %s", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNegotiate(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"ja":                      "ja",
		"ja-JP,ja;q=0.9,en;q=0.8": "ja",
		"en-US,en;q=0.9,ja;q=0.5": "en",
		"fr, ja;q=0.3":            "ja",
		"fr":                      "",
		"en;q=0.2, ja;q=0.8":      "ja",
		"ja;q=0, en;q=0.1":        "en",
		"ja;q=bogus, en;q=0.1":    "en",
	} {
		if got := Negotiate(in); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", in, got, want)
		}
	}
}

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
	s := NewSummary(rec, rep)
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
	if !NewSummary(rec, rep).MassExposure {
		t.Error("mass-exposure rule not seen")
	}
}

func TestOneLineAndFormat(t *testing.T) {
	if got := OneLine("a\r\nb\tc\x00d\u2028e"); got != "a  b c d e" {
		t.Errorf("OneLine = %q", got)
	}
	at := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	if got := FormatTime("ja", at, time.FixedZone("JST", 9*3600)); got != "2026年4月2日(木) 18:00 JST" {
		t.Errorf("ja time %q", got)
	}
	if got := FormatTime("en", at, nil); got != "Thu 2 Apr 2026 09:00 UTC" {
		t.Errorf("en time %q", got)
	}
	if FormatSize(2048) != "2.0 KB" || FormatSize(10) != "10 B" || FormatSize(3<<20) != "3.0 MB" {
		t.Error("sizes")
	}
}
