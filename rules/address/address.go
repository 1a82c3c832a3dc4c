package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrSyntax reports an address that is not local@domain.
var ErrSyntax = errors.New("invalid address")

// Limits of RFC 5321 §4.5.3.1.
const (
	maxLocal = 64
	maxPath  = 256
)

// Routing is a set of addressing forms that can make a next hop deliver
// somewhere else than the domain after the last '@'.
type Routing uint8

const (
	// AtInLocal: an '@' inside the local part, quoted ("x@a"@b, which the
	// SMTP library hands over unquoted) or not (x@a@b).
	AtInLocal Routing = 1 << iota
	// Percent: the "percent hack", x%evil.example@relay.
	Percent
	// Bang: UUCP bang paths, evil!x@relay.
	Bang
	// SourceRoute: RFC 5321 Appendix C source routes, <@a,@b:x@y>.
	SourceRoute
)

// String lists the forms, for replies and logs.
func (r Routing) String() string {
	var out []string
	for _, f := range []struct {
		r    Routing
		name string
	}{{AtInLocal, "'@' in the local part"}, {Percent, "'%' routing"}, {Bang, "'!' routing"}, {SourceRoute, "source route"}} {
		if r&f.r != 0 {
			out = append(out, f.name)
		}
	}
	return strings.Join(out, ", ")
}

// Address is one envelope mailbox.
type Address struct {
	// Local is the local part's content: unquoted, escapes removed.
	Local string
	// Domain is the domain as written: case, U-labels and address literal
	// spelling kept.
	Domain string
	// ASCIIDomain is the canonical routing domain: IDNA A-labels, lower
	// case; address literals lower-cased. Analysis and MX routing use it.
	ASCIIDomain string
	// Routing is the set of routing forms the address uses.
	Routing Routing
}

// Routed reports whether the address uses any routing form.
func (a Address) Routed() bool { return a.Routing != 0 }

// String returns the wire form: the local part quoted when it is not a
// dot-atom (RFC 5321 §4.1.2), '@', the domain as written. A source route is
// not kept: RFC 5321 §3.6.1 and Appendix C let a relay ignore it, and the
// mailbox after it is where the mail then goes.
func (a Address) String() string { return QuoteLocal(a.Local) + "@" + a.Domain }

// ASCII reports whether the wire form is plain ASCII, i.e. needs no
// SMTPUTF8 (RFC 6531).
func (a Address) ASCII() bool { return isASCII(a.Local) && isASCII(a.Domain) }

// Parse parses an address in wire form, as relayed and stored: an RFC 5321
// path or mailbox with or without angle brackets, an optional source route,
// a dot-string or quoted-string local part, '@' and a domain. It is
// tolerant where tolerance cannot hide a destination: an unquoted local
// part containing '@' is parsed and flagged AtInLocal. When the domain is
// invalid the address is returned with the error, its ASCIIDomain the
// lower-cased text, so that a caller can still count it (as external).
func Parse(s string) (Address, error) {
	if len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = s[1 : len(s)-1]
	}
	var a Address
	if strings.HasPrefix(s, "@") {
		colon := strings.IndexByte(s, ':')
		if colon < 0 {
			return a, syntax(s, "source route without ':'")
		}
		if err := checkRoute(s[1:colon]); err != nil {
			return a, err
		}
		a.Routing |= SourceRoute
		s = s[colon+1:]
	}
	at := lastAtOutsideQuotes(s)
	if at < 0 {
		return a, syntax(s, "no '@'")
	}
	raw := s[:at]
	local, ok := unquote(raw)
	if !ok {
		// Not a quoted-string: taken literally, which must be a dot-string
		// apart from the '@' of an unquoted routed address.
		local = raw
		if !dotString(strings.ReplaceAll(raw, "@", "a")) {
			return a, syntax(s, "invalid local part")
		}
	}
	return finish(a, local, s[at+1:], s)
}

// FromSMTP builds an address from the path go-smtp passes to a session's
// Mail and Rcpt: the local part already unquoted, any source route already
// dropped. The local part is everything before the last '@', taken
// literally; "x@a"@b and x@a@b both arrive as x@a@b and both become local
// part x@a at domain b, which is where a next hop routes either of them.
func FromSMTP(s string) (Address, error) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return Address{}, syntax(s, "no '@'")
	}
	return finish(Address{}, s[:at], s[at+1:], s)
}

// finish validates the parts and fills in the domain forms and routing.
func finish(a Address, local, domain, orig string) (Address, error) {
	if local == "" {
		return a, syntax(orig, "empty local part")
	}
	// The limits apply to the wire form, quotes included, so that what is
	// accepted here can always be relayed.
	q := QuoteLocal(local)
	if len(q) > maxLocal {
		return a, syntax(orig, "local part longer than 64 octets")
	}
	if len(q)+1+len(domain)+2 > maxPath {
		return a, syntax(orig, "path longer than 256 octets")
	}
	if !utf8.ValidString(local) || !utf8.ValidString(domain) {
		return a, fmt.Errorf("%w %q: not valid UTF-8", ErrSyntax, clip(orig))
	}
	for _, r := range local {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return a, syntax(orig, "control character in the local part")
		}
	}
	a.Local, a.Domain = local, domain
	a.Routing |= RoutingOf(local)
	ascii, err := routingDomain(domain)
	a.ASCIIDomain = ascii
	if err != nil {
		if a.ASCIIDomain == "" {
			a.ASCIIDomain = strings.ToLower(strings.ToValidUTF8(domain, "\uFFFD"))
		}
		return a, err
	}
	return a, nil
}

// RoutingOf returns the routing forms an (unquoted) local part carries.
func RoutingOf(local string) Routing {
	var r Routing
	if strings.IndexByte(local, '@') >= 0 {
		r |= AtInLocal
	}
	if strings.IndexByte(local, '%') >= 0 {
		r |= Percent
	}
	if strings.IndexByte(local, '!') >= 0 {
		r |= Bang
	}
	return r
}

// checkRoute validates "a,@b" (the route after its first '@').
func checkRoute(route string) error {
	for _, hop := range strings.Split(route, ",") {
		hop = strings.TrimPrefix(hop, "@")
		if _, err := routingDomain(hop); err != nil {
			return fmt.Errorf("%w: source route: %w", ErrSyntax, err)
		}
	}
	return nil
}

// lastAtOutsideQuotes returns the index of the last '@' outside quoted
// strings, or -1.
func lastAtOutsideQuotes(s string) int {
	idx, inQuote := -1, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == '@' && !inQuote:
			idx = i
		}
	}
	return idx
}

// unquote decodes s when it is exactly one quoted-string.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s)-1 {
				return "", false // the closing quote is escaped
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return "", false // a quote in the middle: not one string
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// QuoteLocal returns the local part as written on the wire: as is when it
// is a dot-atom, else as a quoted-string (RFC 5321 §4.1.2).
func QuoteLocal(l string) string {
	if dotString(l) {
		return l
	}
	var b strings.Builder
	b.Grow(len(l) + 2)
	b.WriteByte('"')
	for i := 0; i < len(l); i++ {
		if l[i] == '"' || l[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(l[i])
	}
	b.WriteByte('"')
	return b.String()
}

// dotString reports whether s is an RFC 5321 Dot-string (RFC 6531 allows
// UTF-8 in atoms).
func dotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && c < 0x80 && !isAtext(c) {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func syntax(orig, why string) error {
	return fmt.Errorf("%w %q: %s", ErrSyntax, clip(orig), why)
}

// clip bounds how much of a broken address is quoted in an error.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
