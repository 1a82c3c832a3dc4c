package outbound

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// target is one address to try for a destination.
type target struct {
	host string // name for TLS verification and logs
	addr string // ip:port
}

// resolve lists the addresses to try for a destination, in order.
// In mx mode domain is the recipient domain; otherwise the next hop applies.
func (cl *Client) resolve(ctx context.Context, domain string) ([]target, *failure) {
	hop := cl.hop
	if hop.mx {
		if strings.HasPrefix(domain, "[") {
			return addressLiteral(domain, cl.cfg.MXPort)
		}
		return cl.mxTargets(ctx, domain, cl.cfg.MXPort)
	}
	if hop.lookMX {
		return cl.mxTargets(ctx, hop.host, hop.port)
	}
	if ip := net.ParseIP(hop.host); ip != nil {
		return []target{{host: hop.host, addr: net.JoinHostPort(hop.host, strconv.Itoa(hop.port))}}, nil
	}
	addrs, err := cl.cfg.Resolver.LookupHost(ctx, hop.host)
	if err != nil {
		// A missing smarthost is a configuration problem: defer, never bounce.
		return nil, tempFailure("4.4.3", "cannot resolve next hop %s: %s", hop.host, oneLine(err.Error()))
	}
	return cl.targetsFor(hop.host, addrs, hop.port, nil), nil
}

// addressLiteral handles user@[192.0.2.1] and user@[IPv6:2001:db8::1]
// (RFC 5321 §4.1.3): no DNS, the address is the destination.
func addressLiteral(domain string, port int) ([]target, *failure) {
	inner := strings.TrimSuffix(strings.TrimPrefix(domain, "["), "]")
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		inner = inner[5:]
	}
	ip := net.ParseIP(inner)
	if ip == nil || !strings.HasSuffix(domain, "]") {
		return nil, permFailure(553, "5.1.2", "bad address literal %s", domain)
	}
	return []target{{host: ip.String(), addr: net.JoinHostPort(ip.String(), strconv.Itoa(port))}}, nil
}

// mxTargets implements RFC 5321 §5.1: MX records by preference (shuffled
// among equals), the domain itself as implicit MX when it has none, and
// RFC 7505 null MX as a permanent failure.
func (cl *Client) mxTargets(ctx context.Context, domain string, port int) ([]target, *failure) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if !isASCII(domain) {
		// Internationalised domain (例え.jp): DNS knows its A-label form.
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return nil, permFailure(553, "5.1.2", "bad domain name %s", domain)
		}
		domain = a
	}
	mxs, err := cl.cfg.Resolver.LookupMX(ctx, domain)
	implicit := false
	switch {
	case err != nil && isNotFound(err):
		implicit = true // NXDOMAIN or no MX records: try the domain's own address.
	case err != nil:
		return nil, tempFailure("4.4.3", "MX lookup for %s failed: %s", domain, oneLine(err.Error()))
	case len(mxs) == 0:
		implicit = true
	}
	var hosts []string
	if implicit {
		hosts = []string{domain}
	} else {
		for _, mx := range mxs {
			if mx.Host == "." || mx.Host == "" {
				return nil, permFailure(556, "5.1.10", "domain %s does not accept mail (null MX)", domain)
			}
		}
		hosts = sortMX(mxs)
	}

	var out []target
	var tempErr, lastErr error
	for _, h := range hosts {
		if len(out) >= cl.cfg.MaxAddrsPerDest {
			break
		}
		addrs, err := cl.cfg.Resolver.LookupHost(ctx, h)
		if err != nil {
			lastErr = err
			if !isNotFound(err) {
				tempErr = err
			}
			continue
		}
		out = append(out, cl.targetsFor(h, addrs, port, out)...)
	}
	if len(out) > cl.cfg.MaxAddrsPerDest {
		out = out[:cl.cfg.MaxAddrsPerDest]
	}
	switch {
	case len(out) > 0:
		return out, nil
	case tempErr != nil:
		return nil, tempFailure("4.4.3", "address lookup for %s failed: %s", domain, oneLine(tempErr.Error()))
	case implicit:
		return nil, permFailure(550, "5.1.2", "domain %s not found", domain)
	default:
		return nil, permFailure(550, "5.4.4", "no address for any MX host of %s: %s", domain, oneLine(errString(lastErr)))
	}
}

func (cl *Client) targetsFor(host string, addrs []string, port int, have []target) []target {
	var out []target
	for _, a := range addrs {
		t := target{host: host, addr: net.JoinHostPort(a, strconv.Itoa(port))}
		if slices.Contains(have, t) || slices.Contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// sortMX orders MX hosts by preference, randomising among equal preferences.
func sortMX(mxs []*net.MX) []string {
	s := slices.Clone(mxs)
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	slices.SortStableFunc(s, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	out := make([]string, 0, len(s))
	for _, mx := range s {
		h := strings.TrimSuffix(mx.Host, ".")
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func errString(err error) string {
	if err == nil {
		return "no addresses"
	}
	return err.Error()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
