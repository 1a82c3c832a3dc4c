package address

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		local   string
		ascii   string
		wire    string
		routing Routing
		err     error
	}{
		{"a@example.com", "a", "example.com", "a@example.com", 0, nil},
		{"<A.B@Example.COM>", "A.B", "example.com", "A.B@Example.COM", 0, nil},
		{`"john doe"@example.com`, "john doe", "example.com", `"john doe"@example.com`, 0, nil},
		{`"a\"b"@example.com`, `a"b`, "example.com", `"a\"b"@example.com`, 0, nil},
		{`"abc"@example.com`, "abc", "example.com", "abc@example.com", 0, nil},
		{"x@example.com@evil.example", "x@example.com", "evil.example", `"x@example.com"@evil.example`, AtInLocal, nil},
		{`"x@example.com"@evil.example`, "x@example.com", "evil.example", `"x@example.com"@evil.example`, AtInLocal, nil},
		{"x%evil.example@example.com", "x%evil.example", "example.com", "x%evil.example@example.com", Percent, nil},
		{"evil.example!x@example.com", "evil.example!x", "example.com", "evil.example!x@example.com", Bang, nil},
		{"<@relay.example,@evil.example:x@example.com>", "x", "example.com", "x@example.com", SourceRoute, nil},
		{"a@日本.jp", "a", "xn--wgv71a.jp", "a@日本.jp", 0, nil},
		{"a@XN--WGV71A.jp", "a", "xn--wgv71a.jp", "a@XN--WGV71A.jp", 0, nil},
		{"山田@example.jp", "山田", "example.jp", "山田@example.jp", 0, nil},
		{"a@[192.0.2.1]", "a", "[192.0.2.1]", "a@[192.0.2.1]", 0, nil},
		{"a@[IPv6:2001:DB8::1]", "a", "[ipv6:2001:db8::1]", "a@[IPv6:2001:DB8::1]", 0, nil},
		{"a@ｅｘａｍｐｌｅ.com", "", "", "", 0, ErrBadDomain},
		{"a@example.com.", "", "", "", 0, ErrBadDomain},
		{"a@[IPv6:192.0.2.1]", "", "", "", 0, ErrBadDomain},
		{"a@[192.0.2.1", "", "", "", 0, ErrBadDomain},
		{"a@exa_mple.com", "", "", "", 0, ErrBadDomain},
		{"a@", "", "", "", 0, ErrBadDomain},
		{"noat", "", "", "", 0, ErrSyntax},
		{"@example.com", "", "", "", 0, ErrSyntax},
		{"a b@example.com", "", "", "", 0, ErrSyntax},
		{".a@example.com", "", "", "", 0, ErrSyntax},
		{"<@evil.example x@example.com>", "", "", "", 0, ErrSyntax},
		{"\"a\x01\"@example.com", "", "", "", 0, ErrSyntax},
		{"a\xff@example.com", "", "", "", 0, ErrSyntax},
		{string(make([]byte, 65)) + "@example.com", "", "", "", 0, ErrSyntax},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || a.Local != tt.local || a.ASCIIDomain != tt.ascii || a.String() != tt.wire || a.Routing != tt.routing {
			t.Errorf("Parse(%q) = %+v %q, %v; want local %q domain %q wire %q routing %v",
				tt.in, a, a.String(), err, tt.local, tt.ascii, tt.wire, tt.routing)
		}
	}
}

// TestFromSMTP covers what go-smtp hands the session: local parts already
// unquoted, so both two-'@' forms arrive the same way.
func TestFromSMTP(t *testing.T) {
	tests := []struct {
		in, wire, ascii string
		routing         Routing
		ok              bool
	}{
		{"a@example.com", "a@example.com", "example.com", 0, true},
		{"john doe@example.com", `"john doe"@example.com`, "example.com", 0, true},
		{"x@example.com@evil.example", `"x@example.com"@evil.example`, "evil.example", AtInLocal, true},
		{`a"b@example.com`, `"a\"b"@example.com`, "example.com", 0, true},
		{"x%evil.example@example.com", "x%evil.example@example.com", "example.com", Percent, true},
		{"a@example.com>", "", "", 0, false},
		{"a\r@example.com", "", "", 0, false},
		{"a@ex ample.com", "", "", 0, false},
	}
	for _, tt := range tests {
		a, err := FromSMTP(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("FromSMTP(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if a.String() != tt.wire || a.ASCIIDomain != tt.ascii || a.Routing != tt.routing {
			t.Errorf("FromSMTP(%q) = %q %q %v; want %q %q %v", tt.in, a.String(), a.ASCIIDomain, a.Routing, tt.wire, tt.ascii, tt.routing)
		}
		b, err := Parse(a.String())
		if err != nil || b != a {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", a.String(), b, err, a)
		}
	}
}
