package recipients

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
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
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		// Address literal: nothing to map.
		return strings.ToLower(d), nil
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

// registrable returns the registrable domain (eTLD+1) of a canonical domain,
// or the domain itself when it has none (a bare public suffix or a
// single-label name).
func registrable(d string) string {
	r, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return r
}

// domainSet matches canonical domains against exact entries and
// "*.example.com" wildcards. A wildcard matches strict subdomains only; list
// the apex separately.
type domainSet struct {
	exact    map[string]struct{}
	suffixes []string // ".example.com" for "*.example.com"
}

func newDomainSet(entries []string) (domainSet, []error) {
	s := domainSet{exact: make(map[string]struct{}, len(entries))}
	var errs []error
	for _, e := range entries {
		wild := strings.HasPrefix(e, "*.")
		d, err := NormalizeDomain(strings.TrimPrefix(e, "*."))
		if err != nil {
			errs = append(errs, fmt.Errorf("domain %q: %w", e, err))
			continue
		}
		if wild {
			s.suffixes = append(s.suffixes, "."+d)
		} else {
			s.exact[d] = struct{}{}
		}
	}
	return s, errs
}

// contains reports whether the canonical domain d is in the set.
func (s domainSet) contains(d string) bool {
	if _, ok := s.exact[d]; ok {
		return true
	}
	for _, suf := range s.suffixes {
		if strings.HasSuffix(d, suf) {
			return true
		}
	}
	return false
}

// all returns every domain named by the set (wildcards by their apex).
func (s domainSet) all() []string {
	out := make([]string, 0, len(s.exact)+len(s.suffixes))
	for d := range s.exact {
		out = append(out, d)
	}
	for _, suf := range s.suffixes {
		out = append(out, suf[1:])
	}
	return out
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
