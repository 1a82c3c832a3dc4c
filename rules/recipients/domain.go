package recipients

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/sendguard/sendguard/rules/address"
)

// ErrBadDomain reports a domain that is empty or not a valid host name.
var ErrBadDomain = address.ErrBadDomain

// NormalizeDomain returns the canonical form of a domain: IDNA A-labels
// (punycode), lower case, without a trailing dot (see
// address.NormalizeDomain, which it is: analysis and delivery share one
// normalisation).
func NormalizeDomain(d string) (string, error) { return address.NormalizeDomain(d) }

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
