// Package webbase holds what every sendguard web surface (sender pages,
// download links, console) shares: the base URL, the form key, the
// security headers and the same-origin check. One place, so a fix to the
// security model applies to all of them.
package webbase

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Base is web.base_url taken apart.
type Base struct {
	Origin string // scheme://host[:port], the only Origin a POST may carry
	Path   string // path prefix, always ending in "/"
	Secure bool   // https: cookies are Secure
}

// ParseBase checks and splits an absolute http(s) base URL.
func ParseBase(raw string) (Base, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Base{}, fmt.Errorf("base URL %q must be an absolute http(s) URL", raw)
	}
	return Base{Origin: u.Scheme + "://" + u.Host, Path: strings.TrimSuffix(u.Path, "/") + "/", Secure: u.Scheme == "https"}, nil
}

// ErrShortKey is returned for a configured key under 32 bytes.
var ErrShortKey = errors.New("key shorter than 32 bytes")

// Key returns key, or a random 32-byte key when none is configured (forms
// opened before a restart are then refused once).
func Key(key []byte) ([]byte, error) {
	switch {
	case len(key) == 0:
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
	case len(key) < 32:
		return nil, ErrShortKey
	}
	return key, nil
}

// SetHeaders sets the headers every response of a web surface carries.
// Referrer-Policy is same-origin, not no-referrer: under no-referrer
// browsers send "Origin: null" with a page's own forms, and the Origin
// check could not tell them from a sandboxed attacker. Link tokens in URLs
// still never leave the site in a Referer.
func SetHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// CrossSite reports a request a browser marks as coming from another site
// (Sec-Fetch-Site, which scripts cannot set) or whose Origin is not the
// base URL's. A request with neither header (an old client) passes: the
// CSRF token decides then.
func CrossSite(r *http.Request, origin string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	return o != "" && o != origin
}

// RemoteIP is the connection's peer address (without port).
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
