package recipients

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"a@example.com",
		"Alice <alice@example.com>, bob@example.net",
		"undisclosed-recipients:;",
		"team: a@x.example, b@y.example;, c@z.example",
		"=?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <yamada@example.co.jp>",
		"=?Shift_JIS?B?jbKToQ==?= <sato@example.jp>",
		"\"=?UTF-8?B?5Za25qWt6YOo?=\" <sales@example.jp>",
		"\"john doe\"@example.com (comment (nested)) ",
		"a@example.com, broken@, <b@example.net",
		"\x97\xe9\x96\xd8 <suzuki@example.jp>",
		"a@日本.jp, b@ｅｘａｍｐｌｅ．ｃｏｍ．",
		"\"unterminated <a@example.com>",
		"a@[192.0.2.1]",
		"\x1b$BNkLZ\x1b(B <suzuki@example.jp>",
		"=?UTF-8?B?5bGx5w==?= =?UTF-8?B?lLAg5aSq6YOO?= <yamada@example.jp>",
		"=?UTF-8?Q?=E5=96?= =?UTF-8?Q?=B6=E6=A5=AD?= <sales@example.jp>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		addrs, errs := ParseList(s)
		if len(addrs)+len(errs) > len(s)+1 {
			t.Fatalf("%d addresses and %d errors from %d bytes", len(addrs), len(errs), len(s))
		}
		for _, a := range addrs {
			if a.Local == "" || a.Domain == "" {
				t.Fatalf("empty part in %+v", a)
			}
			if a.Domain != strings.ToLower(a.Domain) {
				t.Fatalf("domain %q not lower-case", a.Domain)
			}
			if !utf8.ValidString(a.Name) {
				t.Fatalf("name %q is not UTF-8", a.Name)
			}
			// The canonical form of a valid address parses back to itself.
			if a.Invalid {
				continue
			}
			b, err := ParseEnvelope(a.String())
			if err != nil || b.key() != strings.ToLower(a.key()) {
				t.Fatalf("round trip of %q: %+v, %v", a.String(), b, err)
			}
		}
	})
}

func FuzzLookalike(f *testing.F) {
	c := NewLookalikeChecker("example.com", "*.example.co.jp", "partner.co.jp", "sendguard-demo.jp")
	for _, s := range []string{
		"exarnple.com", "example.com.evil.net", "xn--xample-2of.com", "ｅｘａｍｐ1ｅ.com",
		"example.org", "partner.jp", "sendguarddemo.jp", "google.com", "a..b", "", ".", "xn--",
		"EXAMPLE.COM.", "日本.jp", "co.jp",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		if len(d) > 1024 {
			return
		}
		m, ok := c.Check(d)
		if !ok {
			return
		}
		if m.Resembles == "" || m.Reason == "" {
			t.Fatalf("Check(%q) = %+v: empty field", d, m)
		}
		nd, err := NormalizeDomain(d)
		if err != nil {
			t.Fatalf("Check(%q) matched an invalid domain: %v", d, err)
		}
		if registrable(nd) == m.Resembles {
			t.Fatalf("Check(%q): a protected domain's own name matched %+v", d, m)
		}
		// Deterministic.
		if m2, ok2 := c.Check(d); !ok2 || m2 != m {
			t.Fatalf("Check(%q) not deterministic: %+v then %+v", d, m, m2)
		}
	})
}
