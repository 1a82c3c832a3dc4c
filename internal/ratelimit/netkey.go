package ratelimit

import "net/netip"

// NetworkKey is the network a client address belongs to for per-account
// limits: its /24 for IPv4 and /64 for IPv6 (the usual allocation to one
// site or host), so an account's failures from one network never slow the
// account down on another. An address that does not parse is its own key.
func NetworkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ip
	}
	return p.String()
}

// AccountKey keys an account's failures by the client's network.
func AccountKey(account, ip string) string {
	return account + "\x00" + NetworkKey(ip)
}
