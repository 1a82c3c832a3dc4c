package outbound

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// TLSPolicy says how STARTTLS to the next hop is used.
type TLSPolicy string

// TLS policies.
const (
	// TLSOpportunistic uses STARTTLS when the peer offers it and falls back
	// to plain text when it does not (or when an unverified handshake fails).
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSRequired defers delivery when the peer cannot do STARTTLS.
	TLSRequired TLSPolicy = "required"
	// TLSNone never uses STARTTLS.
	TLSNone TLSPolicy = "none"
)

// NextHopMX selects direct delivery to each recipient domain's MX hosts.
const NextHopMX = "mx"

// Resolver is the part of *net.Resolver that delivery needs.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Dialer opens TCP connections; *net.Dialer satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Config describes how to reach the next hop. The zero value of every
// optional field selects the default listed next to it.
type Config struct {
	// NextHop is "host:port" (MX lookup on host, as Postfix relayhost
	// does), "[host]:port" (no MX lookup), or "mx" for direct delivery.
	// The port defaults to 25.
	NextHop string
	// HeloName is our FQDN, sent in EHLO. Required.
	HeloName string
	// TLS defaults to TLSOpportunistic.
	TLS TLSPolicy
	// TLSVerify checks the peer certificate against RootCAs (system roots
	// when nil) and the host name. With TLSOpportunistic, a peer that
	// offers STARTTLS but fails verification defers delivery instead of
	// falling back to plain text.
	TLSVerify bool
	RootCAs   *x509.CertPool
	// Username and Password authenticate to the next hop (AUTH PLAIN, or
	// LOGIN when PLAIN is not offered), only over TLS unless
	// AllowInsecureAuth is set.
	Username          string
	Password          string
	AllowInsecureAuth bool

	ConnectTimeout time.Duration // default 30s
	CommandTimeout time.Duration // per command reply; default 5m (RFC 5321 §4.5.3.2)
	DataTimeout    time.Duration // per body write and the final reply; default 10m

	// MaxConnsPerDest bounds open connections (busy and idle) per
	// destination; default 4.
	MaxConnsPerDest int
	// IdleTimeout closes a pooled connection unused for this long; default
	// 30s. A negative value disables reuse.
	IdleTimeout time.Duration
	// MaxMsgsPerConn closes a connection after this many transactions;
	// default 100.
	MaxMsgsPerConn int
	// MaxRcptsPerTxn splits larger recipient lists into several
	// transactions; default 100 (RFC 5321 §4.5.3.1.8).
	MaxRcptsPerTxn int
	// MaxAddrsPerDest bounds the addresses tried per delivery (MX hosts ×
	// their addresses); default 5.
	MaxAddrsPerDest int
	// MXPort overrides port 25 in mx mode and for "host" next hops without
	// a port (tests).
	MXPort int

	// Resolver defaults to net.DefaultResolver; Dialer to a net.Dialer.
	Resolver Resolver
	Dialer   Dialer
}

// nextHop is the parsed Config.NextHop.
type nextHop struct {
	mx     bool   // direct delivery per recipient domain
	host   string // smarthost name or IP
	port   int
	lookMX bool // resolve host's MX records first
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.TLS == "" {
		d.TLS = TLSOpportunistic
	}
	if d.ConnectTimeout == 0 {
		d.ConnectTimeout = 30 * time.Second
	}
	if d.CommandTimeout == 0 {
		d.CommandTimeout = 5 * time.Minute
	}
	if d.DataTimeout == 0 {
		d.DataTimeout = 10 * time.Minute
	}
	if d.MaxConnsPerDest == 0 {
		d.MaxConnsPerDest = 4
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = 30 * time.Second
	}
	if d.MaxMsgsPerConn == 0 {
		d.MaxMsgsPerConn = 100
	}
	if d.MaxRcptsPerTxn == 0 {
		d.MaxRcptsPerTxn = 100
	}
	if d.MaxAddrsPerDest == 0 {
		d.MaxAddrsPerDest = 5
	}
	if d.MXPort == 0 {
		d.MXPort = 25
	}
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	if d.Dialer == nil {
		d.Dialer = &net.Dialer{}
	}
	return d
}

// validate returns every problem at once, each naming its field.
func (c *Config) validate() (nextHop, error) {
	var errs []error
	hop, err := parseNextHop(c.NextHop, c.MXPort)
	if err != nil {
		errs = append(errs, fmt.Errorf("NextHop: %w", err))
	}
	if c.HeloName == "" || strings.ContainsAny(c.HeloName, " \r\n\t") {
		errs = append(errs, errors.New("HeloName: must be a host name"))
	}
	switch c.TLS {
	case TLSOpportunistic, TLSRequired, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("TLS: unknown policy %q (opportunistic|required|none)", c.TLS))
	}
	if c.Username != "" && c.TLS == TLSNone && !c.AllowInsecureAuth {
		errs = append(errs, errors.New("Username: AUTH without TLS needs AllowInsecureAuth"))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("Password: set without Username"))
	}
	for name, v := range map[string]time.Duration{
		"ConnectTimeout": c.ConnectTimeout, "CommandTimeout": c.CommandTimeout, "DataTimeout": c.DataTimeout,
	} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	for name, v := range map[string]int{
		"MaxConnsPerDest": c.MaxConnsPerDest, "MaxMsgsPerConn": c.MaxMsgsPerConn, "MaxAddrsPerDest": c.MaxAddrsPerDest,
		"MaxRcptsPerTxn": c.MaxRcptsPerTxn,
	} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	if c.MXPort < 0 || c.MXPort > 65535 {
		errs = append(errs, errors.New("MXPort: out of range"))
	}
	return hop, errors.Join(errs...)
}

// bracketed is a "[host]" next hop: no MX lookup, and the host must be
// there.
func bracketed(s, host string, port int) (nextHop, error) {
	if host == "" || strings.ContainsAny(host, " /[]") {
		return nextHop{}, fmt.Errorf("bad host in %q", s)
	}
	return nextHop{host: host, port: port}, nil
}

func parseNextHop(s string, defPort int) (nextHop, error) {
	if s == "" {
		return nextHop{}, errors.New("empty (want host:port, [host]:port or mx)")
	}
	if strings.EqualFold(s, NextHopMX) {
		return nextHop{mx: true, port: defPort}, nil
	}
	host, port := s, defPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n <= 0 || n > 65535 {
			return nextHop{}, fmt.Errorf("bad port in %q", s)
		}
		host, port = h, n
		// SplitHostPort strips the brackets of "[host]:port".
		if strings.HasPrefix(s, "[") {
			return bracketed(s, host, port)
		}
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return bracketed(s, s[1:len(s)-1], port)
	}
	if host == "" || strings.ContainsAny(host, " /[]") {
		return nextHop{}, fmt.Errorf("bad host in %q", s)
	}
	if net.ParseIP(host) != nil {
		return nextHop{host: host, port: port}, nil
	}
	return nextHop{host: host, port: port, lookMX: true}, nil
}
