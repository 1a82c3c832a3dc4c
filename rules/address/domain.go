package address

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBadDomain reports a domain that is empty or not a valid host name.
var ErrBadDomain = errors.New("invalid domain")

// NormalizeDomain returns the canonical form of a domain: IDNA A-labels
// (punycode), lower case, without a trailing dot. Full-width and other
// compatibility forms are mapped as UTS #46 lookup does, which is what mail
// systems do before resolving. On error the lower-cased input (trimmed) is
// returned along with an error wrapping ErrBadDomain, so callers can still
// classify the address.
func NormalizeDomain(d string) (string, error) {
	d = strings.TrimSpace(d)
	if strings.HasPrefix(d, "[") {
		return addressLiteral(d)
	}
	// One trailing dot is the absolute form of the same name; the full-width
	// and ideographic dots are mapped by IDNA but not trimmed by it.
	for _, dot := range []string{".", "\uff0e", "\u3002", "\uff61"} {
		if strings.HasSuffix(d, dot) {
			d = strings.TrimSuffix(d, dot)
			break
		}
	}
	if d == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	if a, ok := plainASCII(d); ok {
		return a, nil
	}
	if !utf8.ValidString(d) {
		return strings.ToLower(strings.ToValidUTF8(d, "\uFFFD")), fmt.Errorf("%w %q: not UTF-8", ErrBadDomain, d)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err == nil {
		// ToASCII encodes some labels it cannot decode again (U+FFFD).
		_, err = idna.Lookup.ToUnicode(a)
	}
	if err != nil {
		return strings.ToLower(d), fmt.Errorf("%w %q: %w", ErrBadDomain, d, err)
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" {
			return a, fmt.Errorf("%w %q: empty label", ErrBadDomain, d)
		}
	}
	return a, nil
}

// routingDomain checks the domain of an envelope address and returns its
// canonical form. It is stricter than NormalizeDomain: the next hop routes
// on the text as written, so a name that only means the canonical one after
// UTS #46 mapping (full-width letters or dots, a trailing dot) is refused
// rather than classified under a name the next hop might not use.
func routingDomain(d string) (string, error) {
	if d == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	if d[0] == '[' {
		return addressLiteral(d)
	}
	if a, ok := plainASCII(d); ok {
		return a, nil
	}
	a, err := NormalizeDomain(d)
	if err != nil {
		return a, err
	}
	if strings.HasSuffix(d, ".") || strings.ContainsAny(d, "\uff0e\u3002\uff61") {
		return a, fmt.Errorf("%w %q: not in canonical form", ErrBadDomain, d)
	}
	// The written form must be the A-label or U-label form of the same
	// name, differing at most in case.
	u, err := idna.Lookup.ToUnicode(a)
	if err != nil || !(strings.EqualFold(d, a) || strings.EqualFold(d, u)) {
		return a, fmt.Errorf("%w %q: not in canonical form", ErrBadDomain, d)
	}
	return a, nil
}

// addressLiteral validates [192.0.2.1] and [IPv6:2001:db8::1] (RFC 5321
// §4.1.3). General address literals are refused: nothing routes them.
func addressLiteral(d string) (string, error) {
	if len(d) < 3 || d[len(d)-1] != ']' {
		return strings.ToLower(d), fmt.Errorf("%w %q: bad address literal", ErrBadDomain, d)
	}
	inner := d[1 : len(d)-1]
	v6 := len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:")
	if v6 {
		inner = inner[5:]
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || ip.Zone() != "" || ip.Is4() == v6 {
		return strings.ToLower(d), fmt.Errorf("%w %q: bad address literal", ErrBadDomain, d)
	}
	if v6 {
		return "[ipv6:" + ip.String() + "]", nil
	}
	return "[" + ip.String() + "]", nil
}

// plainASCII is the fast path for the common case: an LDH host name with no
// A-labels, which IDNA would only lower-case.
func plainASCII(d string) (string, bool) {
	if len(d) > 253 {
		return "", false
	}
	labelStart := 0
	for i := 0; i <= len(d); i++ {
		if i == len(d) || d[i] == '.' {
			l := d[labelStart:i]
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
				(len(l) >= 4 && l[2] == '-' && l[3] == '-') {
				return "", false // empty, too long, or xn-- and other reserved forms
			}
			labelStart = i + 1
			continue
		}
		c := d[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return "", false
		}
	}
	return strings.ToLower(d), true
}
