package recipients

import (
	"strings"
	"testing"
)

func TestLookalike(t *testing.T) {
	c := NewLookalikeChecker("example.com", "*.example.com", "partner.co.jp", "sendguard-demo.jp", "abc.co.jp", "mail.com", "burn.net",
		"wakeup.jp", "dental.co.jp", "example.cl", "例え.jp", "modern.net", "clinic.jp")
	tests := []struct {
		domain    string
		resembles string // "" = must not match
		reason    string // substring of the reason
	}{
		// Positives.
		{"exarnple.com", "example.com", "rn/m"},
		{"examp1e.com", "example.com", "1/l"},
		{"exampIe.com", "example.com", "I/l"},
		{"ex4mple.com", "example.com", "edit distance 1"},
		{"exmaple.com", "example.com", "edit distance 1"},
		{"examples.com", "example.com", "edit distance 1"},
		{"exampl.com", "example.com", "edit distance 1"},
		{"еxample.com", "example.com", "Cyrillic"},
		{"xn--xample-2of.com", "example.com", "Cyrillic"},
		{"εxample.com", "example.com", "Greek"},
		{"ｅｘａｍｐ1ｅ.com", "example.com", "full-width"},
		{"example.org", "example.com", "tld swap (.com → .org)"},
		{"example.co.jp", "example.com", "tld swap"},
		{"example.net", "example.com", "tld swap"},
		{"ex-ample.com", "example.com", "hyphen"},
		{"example.com.evil.net", "example.com", "subdomain trick"},
		{"login.example.com.evil.net", "example.com", "subdomain trick"},
		{"example-com.evil.net", "example.com", "subdomain trick"},
		{"EXAMPLE.COM.attacker.jp", "example.com", "subdomain trick"},
		{"partner.com", "partner.co.jp", "tld swap"},
		{"partner.ne.jp", "partner.co.jp", "tld swap"},
		{"partner.jp", "partner.co.jp", "tld swap"},
		{"pertner.co.jp", "partner.co.jp", "edit distance 1"},
		{"partnre.co.jp", "partner.co.jp", "edit distance 1"},
		{"parlner.co.jp", "partner.co.jp", "edit distance 1"},
		{"sendguarddemo.jp", "sendguard-demo.jp", "hyphen"},
		{"sendguard-dermo.jp", "sendguard-demo.jp", "edit distance 1"},
		{"sendgaurd-demo.com", "sendguard-demo.jp", "edit distance 1"},
		{"abc.com", "abc.co.jp", "tld swap"},
		{"bum.net", "burn.net", "homoglyph"},
		{"vvebmail.example.org", "example.com", "tld swap"},
		{"exampie.com", "example.com", "edit distance 1"},
		{"XN--XAMPLE-2OF.COM", "example.com", "Cyrillic"},
		{"examp1e.co.jp", "example.com", "homoglyph (1/l), tld swap (.com → .co.jp)"},
		{"vvakeup.jp", "wakeup.jp", "vv/w"},
		{"clental.co.jp", "dental.co.jp", "cl/d"},
		{"dental.co.jp.login.example.net", "dental.co.jp", "subdomain trick"},
		{"shop.example.cl", "", ""},
		{"example.cl.evil.net", "example.cl", "subdomain trick"},
		{"pаrtner.co.jp", "partner.co.jp", "Cyrillic а"},
		{"例え.com", "xn--r8jz45g.jp", "tld swap"},
		{"例.jp", "", ""},
		{"ｐａｒｔｎｅｒ.co.jp", "", ""}, // full-width maps to the partner itself
		{"modem.net", "modern.net", "homoglyph (rn/m)"},
		{"clinic-jp.evil.net", "clinic.jp", "subdomain trick"},
		{"example-com.github.io", "example.com", "whole domain spelled"},
		{"examplecom.net", "example.com", "whole domain spelled"},
		{"github.io", "", ""},
		{"modest.net", "", ""},
		{"examp0le.com", "example.com", "edit distance 1 after folding 0/o"},
		{"axampla.com", "", ""}, // distance 2 at length 7: too far
		// Hard negatives.
		{"example.com", "", ""},
		{"EXAMPLE.COM.", "", ""},
		{"mail.example.com", "", ""},
		{"hr.example.com", "", ""},
		{"partner.co.jp", "", ""},
		{"www.partner.co.jp", "", ""},
		{"sample.com", "", ""},
		{"exam.com", "", ""},
		{"google.com", "", ""},
		{"gmail.com", "", ""},
		{"abd.co.jp", "", ""},
		{"ab.co.jp", "", ""},
		{"abc.de", "", ""},
		{"xyz.com", "", ""},
		{"mall.com", "", ""},
		{"mail.co", "", ""}, // 4-letter label, swap suffix: still a hit? see below
		{"partnership.co.jp", "", ""},
		{"partners-group.com", "", ""},
		{"example.zendesk.com", "", ""},
		{"demo.jp", "", ""},
		{"sendgrid.net", "", ""},
		{"yahoo.co.jp", "", ""},
		{"日本.jp", "", ""},
		{"", "", ""},
		{"a..b", "", ""},
	}
	for _, tt := range tests {
		if tt.domain == "mail.co" {
			// A four-letter label under a confusable suffix is a swap.
			tt.resembles, tt.reason = "mail.com", "tld swap"
		}
		m, ok := c.Check(tt.domain)
		if tt.resembles == "" {
			if ok {
				t.Errorf("Check(%q) = %+v, want no match", tt.domain, m)
			}
			continue
		}
		if !ok || m.Resembles != tt.resembles || !strings.Contains(m.Reason, tt.reason) {
			t.Errorf("Check(%q) = %+v, %v; want resembles %q with reason containing %q", tt.domain, m, ok, tt.resembles, tt.reason)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"example", "example", 2, 0},
		{"example", "exmaple", 2, 1},
		{"example", "exampl", 2, 1},
		{"example", "examples", 2, 1},
		{"example", "ezample", 2, 1},
		{"example", "sample", 2, 2},
		{"example", "google", 2, 3},
		{"abc", "ca", 5, 3}, // OSA, not full Damerau: no edit of a transposed pair
		{"", "abc", 5, 3},
		{"kitten", "sitting", 5, 3},
		{strings.Repeat("a", 65), strings.Repeat("a", 65), 2, 3},
	}
	for _, tt := range tests {
		if got := editDistance([]rune(tt.a), []rune(tt.b), tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

func TestLookalikePunctuationEdits(t *testing.T) {
	c := NewLookalikeChecker("example-corp.co.jp", "partner.co.jp", "abc-trading.com", "a-b.jp")
	for _, tc := range []struct{ domain, resembles, reason string }{
		{"example-corp-co.jp", "example-corp.co.jp", "dot → hyphen"},
		{"example.corp.co.jp", "example-corp.co.jp", "hyphen → dot"},
		{"examplecorp-co.jp", "example-corp.co.jp", "dropped"},
		{"example-corpco.jp", "example-corp.co.jp", "dropped"},
		{"examplecorp.co.jp", "example-corp.co.jp", "hyphen"},
		{"partner-co.jp", "partner.co.jp", "dot → hyphen"},
		{"partnerco.jp", "partner.co.jp", "dropped"},
		{"abc.trading.com", "abc-trading.com", "hyphen → dot"},
		{"EXAMPLE-CORP-CO.JP", "example-corp.co.jp", "dot → hyphen"},
		// Hard negatives: unrelated domains that share a suffix or a word.
		{"corp.co.jp", "", ""},
		{"other-corp.co.jp", "", ""},
		{"example.co.jp", "", ""},
		{"trading.com", "", ""},
		{"partners-group.co.jp", "", ""},
		{"ab.jp", "", ""}, // too short to tell punctuation from a name
		{"mail.example-corp.co.jp", "", ""},
	} {
		m, ok := c.Check(tc.domain)
		if tc.resembles == "" {
			if ok {
				t.Errorf("%s: resembles %s (%s), want no match", tc.domain, m.Resembles, m.Reason)
			}
			continue
		}
		if !ok || m.Resembles != tc.resembles || !strings.Contains(m.Reason, tc.reason) {
			t.Errorf("%s: got %v %q %q, want %s (%s)", tc.domain, ok, m.Resembles, m.Reason, tc.resembles, tc.reason)
		}
	}
}
