package outbound

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules/address"
	"github.com/sendguard/sendguard/rules/recipients"
)

// TestQuotedLocalPartStaysQuoted: the RCPT TO line the next hop reads
// carries the quoted local part, so it routes on the same domain the
// analysis saw (an unquoted x@example.com@evil.example would be parsed
// differently by different MTAs).
func TestQuotedLocalPartStaysQuoted(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	res := deliver(t, c, Envelope{MailFrom: "a@example.com",
		Rcpts: []string{`"john doe"@x.test`, `"x@example.com"@evil.test`, "x@example.com@evil.test"}})
	wantDelivered(t, res)
	raw := s.rawText()
	for _, want := range []string{"RCPT TO:<\"john doe\"@x.test>\r\n", "RCPT TO:<\"x@example.com\"@evil.test>\r\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("next hop did not get %q:\n%s", want, raw)
		}
	}
	if strings.Contains(raw, "RCPT TO:<x@example.com@evil.test>") {
		t.Errorf("an unquoted '@' reached the next hop:\n%s", raw)
	}
}

// TestSMTPUTF8RequiredForNonASCIIAddress: a non-ASCII local part goes only
// to a next hop that offers SMTPUTF8; else it fails permanently (a DSN),
// before any transaction starts. A non-ASCII domain alone is sent in its
// A-label form and needs nothing.
func TestSMTPUTF8RequiredForNonASCIIAddress(t *testing.T) {
	plain := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(plain), TLS: TLSNone})
	r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"山田@x.test"}})[0]
	if r.Delivered || r.Temporary || r.Code != 550 || r.Enhanced != "5.6.7" {
		t.Fatalf("non-ASCII local part to a peer without SMTPUTF8: %+v", r)
	}
	r = deliver(t, c, Envelope{MailFrom: "差出人@example.com", Rcpts: []string{"b@x.test"}})[0]
	if r.Delivered || r.Temporary || r.Enhanced != "5.6.7" {
		t.Fatalf("non-ASCII sender to a peer without SMTPUTF8: %+v", r)
	}
	if strings.Contains(plain.rawText(), "MAIL FROM") {
		t.Fatalf("a transaction was started:\n%s", plain.rawText())
	}
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"u@例え.jp"}}))
	if !strings.Contains(plain.rawText(), "RCPT TO:<u@xn--r8jz45g.jp>") {
		t.Fatalf("IDN domain not sent as A-label:\n%s", plain.rawText())
	}

	utf := startSink(t, sinkOpts{utf8: true})
	c = newClient(t, Config{NextHop: relay(utf), TLS: TLSNone})
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"山田@x.test"}}))
	raw := utf.rawText()
	if !strings.Contains(raw, " SMTPUTF8") || !strings.Contains(raw, "RCPT TO:<山田@x.test>") {
		t.Fatalf("SMTPUTF8 peer:\n%s", raw)
	}
}

// FuzzParseAddress: the address parser never panics; what the SMTP session
// stores (FromSMTP → String) parses back to the same address; and the
// domain the recipient analysis classifies is the domain outbound routing
// groups the recipient under in mx mode.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"a@example.com", "x@example.com@evil.example", `"x@example.com"@evil.example`,
		"x%evil.example@example.com", "evil!x@example.com", "<@a.example,@b.example:x@y.example>",
		`"john doe"@example.com`, `a"b@example.com`, "山田@例え.jp", "a@[192.0.2.1]", "a@[IPv6:::1]",
		"a@ｅｘａｍｐｌｅ.com", "a@xn--r8jz45g.jp", "a@example.com.", "\"a\\\"@b\"@c@d",
	} {
		f.Add(s)
	}
	c, err := New(Config{NextHop: NextHopMX, HeloName: "gw.example.com"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1024 {
			return
		}
		a, err := address.Parse(s)
		if err == nil {
			checkRoute(t, c, a)
		}
		a, err = address.FromSMTP(s)
		if err != nil {
			return
		}
		b, err := address.Parse(a.String())
		if err != nil || b != a {
			t.Fatalf("FromSMTP(%q) = %+v; Parse(%q) = %+v, %v", s, a, a.String(), b, err)
		}
		checkRoute(t, c, a)
	})
}

func checkRoute(t *testing.T, c *Client, a address.Address) {
	t.Helper()
	stored := a.String()
	ra, err := recipients.ParseEnvelope(stored)
	if err != nil || ra.Domain != a.ASCIIDomain {
		t.Fatalf("analysis of %q: domain %q, %v; parser says %q", stored, ra.Domain, err, a.ASCIIDomain)
	}
	// String drops a source route, as RFC 5321 Appendix C lets a relay do.
	if want := a.Routing &^ address.SourceRoute; ra.Routing != want {
		t.Fatalf("analysis of %q: routing %v, parser says %v", stored, ra.Routing, want)
	}
	results := make([]RcptResult, 1)
	g := c.group(Envelope{Rcpts: []string{stored}}, results)
	if len(g) != 1 || g[0].domain != a.ASCIIDomain {
		t.Fatalf("outbound groups %q under %+v; analysis domain %q (result %+v)", stored, g, a.ASCIIDomain, results[0])
	}
	if w := g[0].wire[0]; w != stored && (isASCII(a.Local) && w != address.QuoteLocal(a.Local)+"@"+a.ASCIIDomain) {
		t.Fatalf("outbound sends %q for %q", w, stored)
	}
}
