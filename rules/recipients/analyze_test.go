package recipients

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

func newTestAnalyzer(t *testing.T) *Analyzer {
	t.Helper()
	an, err := New(Config{
		InternalDomains: []string{"example.com", "*.example.com", "例え.jp"},
		PartnerDomains:  []string{"partner.co.jp"},
	}, NewMemoryHistory("known.client-a.net", "Client-C.ORG."))
	if err != nil {
		t.Fatal(err)
	}
	return an
}

func TestNewRejectsBadDomains(t *testing.T) {
	_, err := New(Config{InternalDomains: []string{"ok.example", "bad domain"}, PartnerDomains: []string{"a..b"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "bad domain") || !strings.Contains(err.Error(), "a..b") {
		t.Fatalf("New with bad domains: err = %v, want both named", err)
	}
}

func TestInternal(t *testing.T) {
	an := newTestAnalyzer(t)
	tests := map[string]bool{
		"example.com":          true,
		"EXAMPLE.COM.":         true,
		"hr.example.com":       true,
		"a.b.example.com":      true,
		"xn--r8jz45g.jp":       true,
		"例え.JP":                true,
		"example.com.evil.net": false,
		"notexample.com":       false,
		"example.co.jp":        false,
		"partner.co.jp":        false,
	}
	for d, want := range tests {
		if got := an.Internal(d); got != want {
			t.Errorf("Internal(%q) = %v, want %v", d, got, want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	an := newTestAnalyzer(t)
	res := an.Analyze(Input{
		From: "=?UTF-8?B?5Za25qWt6YOo?= <Sales@Example.com>",
		To:   []string{"Boss <boss@example.com>, =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <Yamada@Partner.co.jp>"},
		Cc:   []string{"x@known.client-a.net, broken@, team: y@exarnple.com;", "z@Client-c.org"},
		Envelope: []string{
			"<boss@example.com>", "<yamada@partner.co.jp>", "<x@known.client-a.net>",
			"<y@exarnple.com>", "<hidden@bcc-only.client-b.net>", "<HIDDEN@bcc-only.client-b.net>",
			"<ops@hr.example.com>", "<bad>",
		},
	})
	if res.From != "sales@example.com" {
		t.Errorf("From = %q", res.From)
	}
	r := res.Recipients
	// <bad> cannot be classified: it still counts, as external.
	if r.Total != 7 || r.External != 5 || r.VisibleExternal != 4 {
		t.Errorf("total/external/visible = %d/%d/%d, want 7/5/4", r.Total, r.External, r.VisibleExternal)
	}
	wantVisible := []string{"client-c.org", "exarnple.com", "known.client-a.net", "partner.co.jp"}
	if !reflect.DeepEqual(r.VisibleExternalDomains, wantVisible) {
		t.Errorf("VisibleExternalDomains = %q, want %q", r.VisibleExternalDomains, wantVisible)
	}
	// z@client-c.org is visible but not an envelope recipient of this copy.
	wantExt := []string{"bcc-only.client-b.net", "exarnple.com", "known.client-a.net", "partner.co.jp"}
	if !reflect.DeepEqual(r.ExternalDomains, wantExt) {
		t.Errorf("ExternalDomains = %q, want %q", r.ExternalDomains, wantExt)
	}
	wantFirst := []string{"bcc-only.client-b.net", "exarnple.com"}
	if !reflect.DeepEqual(r.FirstTimeDomains, wantFirst) {
		t.Errorf("FirstTimeDomains = %q, want %q", r.FirstTimeDomains, wantFirst)
	}
	if len(r.Lookalike) != 1 || r.Lookalike[0].Address != "y@exarnple.com" || r.Lookalike[0].Resembles != "example.com" {
		t.Errorf("Lookalike = %+v", r.Lookalike)
	}
	if len(res.Errors) != 2 || !strings.HasPrefix(res.Errors[0], "Cc: ") || !strings.HasPrefix(res.Errors[1], "RCPT TO: ") {
		t.Errorf("Errors = %q, want one Cc and one RCPT TO error", res.Errors)
	}
	want := []rules.Recipient{
		{Address: "boss@example.com", Name: "Boss", Field: "to", Domain: "example.com", Envelope: true},
		{Address: "yamada@partner.co.jp", Name: "山田", Field: "to", Domain: "partner.co.jp", External: true, Envelope: true},
		{Address: "x@known.client-a.net", Field: "cc", Domain: "known.client-a.net", External: true, Envelope: true},
		{Address: "y@exarnple.com", Field: "cc", Domain: "exarnple.com", External: true, Envelope: true},
		{Address: "z@client-c.org", Field: "cc", Domain: "client-c.org", External: true},
		{Address: "hidden@bcc-only.client-b.net", Field: "bcc", Domain: "bcc-only.client-b.net", External: true, Envelope: true},
		{Address: "ops@hr.example.com", Field: "bcc", Domain: "hr.example.com", Envelope: true},
		{Address: "bad", Field: "bcc", External: true, Envelope: true},
	}
	if !reflect.DeepEqual(r.List, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", r.List, want)
	}
}

func TestAnalyzeOffline(t *testing.T) {
	an := newTestAnalyzer(t)
	res := an.Analyze(Input{
		To:  []string{"undisclosed-recipients:;"},
		Bcc: []string{"a@customer.client-d.net, b@customer.client-d.net, c@example.com"},
	})
	r := res.Recipients
	if r.Total != 3 || r.External != 2 || r.VisibleExternal != 0 || len(r.VisibleExternalDomains) != 0 {
		t.Errorf("offline counts = %+v", r)
	}
	if !reflect.DeepEqual(r.ExternalDomains, []string{"customer.client-d.net"}) {
		t.Errorf("ExternalDomains = %q", r.ExternalDomains)
	}
	for _, rc := range r.List {
		if rc.Field != "bcc" || !rc.Envelope {
			t.Errorf("recipient %+v: want bcc envelope", rc)
		}
	}
}

func TestAnalyzeEmpty(t *testing.T) {
	res := newTestAnalyzer(t).Analyze(Input{})
	r := res.Recipients
	if r.Total != 0 || r.ExternalDomains == nil || r.Lookalike == nil || r.FirstTimeDomains == nil || r.VisibleExternalDomains == nil || r.List == nil {
		t.Errorf("empty analysis = %+v; lists must be non-nil for JSON", r)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors = %q", res.Errors)
	}
}

func TestFirstTimeDomains(t *testing.T) {
	an := newTestAnalyzer(t)
	res := an.Analyze(Input{Envelope: []string{
		"a@mail.partner.co.jp", "b@partner.co.jp", "c@sub.known.client-a.net", "d@client-a.net", "h@other.client-a.net",
		"e@new.example.jp", "f@Client-C.org", "g@www.client-c.org",
	}})
	want := []string{"client-a.net", "new.example.jp", "other.client-a.net"}
	if got := res.Recipients.FirstTimeDomains; !reflect.DeepEqual(got, want) {
		t.Fatalf("FirstTimeDomains = %q, want %q", got, want)
	}
}

func TestAnalyzeBccOnlyExternal(t *testing.T) {
	an := newTestAnalyzer(t)
	res := an.Analyze(Input{
		To:       []string{"team@example.com"},
		Envelope: []string{"team@example.com", "leak@competitor.client-e.net", "odd@Exa_mple.com"},
	})
	r := res.Recipients
	if r.External != 2 || r.VisibleExternal != 0 || len(r.VisibleExternalDomains) != 0 {
		t.Errorf("bcc-only external: %+v", r)
	}
	// An invalid domain still counts, as external, with an error.
	if len(res.Errors) != 1 || r.List[2].Address != "odd@exa_mple.com" || !r.List[2].External {
		t.Errorf("invalid domain: errors %q, list %+v", res.Errors, r.List)
	}
	if r.List[1].Field != "bcc" || !r.List[1].External {
		t.Errorf("bcc recipient = %+v", r.List[1])
	}
}

// TestAnalyzeRoutedAddresses: every form a next hop could route elsewhere
// than its domain counts as one external recipient with a look-alike entry
// (so the default policy holds it), never as zero recipients or internal.
func TestAnalyzeRoutedAddresses(t *testing.T) {
	an := newTestAnalyzer(t)
	for _, tt := range []struct {
		rcpt, domain, shown string
	}{
		{"<x@example.com@evil.example>", "evil.example", "example.com"},
		{`<"x@example.com"@evil.example>`, "evil.example", "example.com"},
		{"<x%evil.example@example.com>", "example.com", "evil.example"},
		{"<evil.example!x@example.com>", "example.com", "evil.example"},
		{"<@evil.example:x@example.com>", "example.com", "example.com"},
		{"<x@exa_mple.com>", "exa_mple.com", ""},
		{"<garbage>", "", ""},
	} {
		for _, in := range []Input{
			{Envelope: []string{tt.rcpt}},
			// Offline: the header recipient stands in for the envelope.
			{To: []string{strings.Trim(tt.rcpt, "<>")}},
		} {
			r := an.Analyze(in).Recipients
			if r.Total != 1 || r.External != 1 || len(r.List) != 1 || !r.List[0].External || r.List[0].Domain != tt.domain {
				if len(in.To) > 0 && (tt.rcpt == "<garbage>" || strings.HasPrefix(tt.rcpt, "<@")) {
					continue // not an address in a header at all
				}
				t.Errorf("%+v: total/external %d/%d, list %+v", in, r.Total, r.External, r.List)
				continue
			}
			if tt.shown == "" {
				continue
			}
			if len(r.Lookalike) != 1 || r.Lookalike[0].Resembles != tt.shown || !strings.HasPrefix(r.Lookalike[0].Reason, "routed address") {
				t.Errorf("%+v: lookalike %+v, want resembles %q", in, r.Lookalike, tt.shown)
			}
		}
	}
}
