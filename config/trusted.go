package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// checkTrusted refuses trusted networks that make an open relay, whole or
// in pieces: a prefix wider than the family's minimum, or a union covering
// more than smtp.trusted_max_share of the IPv4 or the IPv6 address space.
// IPv4-mapped IPv6 prefixes count as the IPv4 networks they map.
func (v *validator) checkTrusted(s *SMTP) {
	if s.TrustedMinPrefixV4 < 0 || s.TrustedMinPrefixV4 > 32 {
		v.add("smtp.trusted_min_prefix_v4", "must be between 0 and 32")
	}
	if s.TrustedMinPrefixV6 < 0 || s.TrustedMinPrefixV6 > 128 {
		v.add("smtp.trusted_min_prefix_v6", "must be between 0 and 128")
	}
	if !(s.TrustedMaxShare > 0 && s.TrustedMaxShare < 1) {
		v.add("smtp.trusted_max_share", "must be a share of the address space between 0 and 1 (exclusive), e.g. 0.015625")
	}
	var v4, v6 []netip.Prefix
	for i, n := range s.TrustedNetworks {
		p, err := ParsePrefix(n)
		if err != nil || p.Bits() == 0 {
			continue // reported by checkSMTP
		}
		p = unmapPrefix(p)
		key := fmt.Sprintf("smtp.trusted_networks[%d]", i)
		if p.Addr().Is4() {
			if p.Bits() < s.TrustedMinPrefixV4 {
				v.add(key, "%q is wider than /%d (smtp.trusted_min_prefix_v4): it covers %s of the IPv4 address space, too much for networks allowed to relay",
					n, s.TrustedMinPrefixV4, sharePercent(math.Ldexp(1, -p.Bits())))
				continue
			}
			v4 = append(v4, p)
		} else {
			if p.Bits() < s.TrustedMinPrefixV6 {
				v.add(key, "%q is wider than /%d (smtp.trusted_min_prefix_v6): it covers %s of the IPv6 address space, too much for networks allowed to relay",
					n, s.TrustedMinPrefixV6, sharePercent(math.Ldexp(1, -p.Bits())))
				continue
			}
			v6 = append(v6, p)
		}
	}
	if !(s.TrustedMaxShare > 0 && s.TrustedMaxShare < 1) {
		return
	}
	for _, fam := range []struct {
		name     string
		prefixes []netip.Prefix
	}{{"IPv4", v4}, {"IPv6", v6}} {
		share, union := coverage(fam.prefixes)
		if share > s.TrustedMaxShare {
			v.add("smtp.trusted_networks", "together (%s) they cover %s of the %s address space, more than smtp.trusted_max_share (%s): that is an open relay in pieces",
				strings.Join(union, ", "), sharePercent(share), fam.name, sharePercent(s.TrustedMaxShare))
		}
	}
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n ≥ 96) into a.b.c.d/(n−96).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p
}

// coverage is the share of its family's address space that the union of
// prefixes covers, and the union's outermost prefixes (nested ones are
// counted once).
func coverage(prefixes []netip.Prefix) (float64, []string) {
	ps := slices.Clone(prefixes)
	// Widest first among equal addresses, so a containing prefix comes
	// before the prefixes it contains.
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var outer []netip.Prefix
	for _, p := range ps {
		if n := len(outer); n > 0 && outer[n-1].Contains(p.Addr()) {
			continue // prefixes nest or are disjoint: p lies inside
		}
		outer = append(outer, p)
	}
	var share float64
	var names []string
	for _, p := range outer {
		share += math.Ldexp(1, -p.Bits())
		names = append(names, p.String())
	}
	return share, names
}

func sharePercent(f float64) string {
	return fmt.Sprintf("%.4g%%", f*100)
}
