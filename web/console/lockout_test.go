package console

import (
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// clientFrom is a browser whose connections come from ip, a loopback
// address other than 127.0.0.1.
func (e *env) clientFrom(ip string) *client {
	c := e.client()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.c.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

func TestSignInFailuresCannotLockOutAdmin(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailuresPerUser = 3; c.MaxFailuresPerIP = 8 })
	e.addUser("root", RoleAdmin)
	e.addUser("rita", RoleReviewer)
	attacker := e.clientFrom("127.0.0.2")
	attacker.get("/console/login")
	guess := func(user string) resp {
		return attacker.postCSRF("/console/login", url.Values{"user": {user}, "password": {"guess guess guess"}})
	}
	for i := range 3 {
		if r := guess("root"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	// From the attacker's network the account is now slowed down: even the
	// right password is not checked during the back-off.
	r := attacker.postCSRF("/console/login", url.Values{"user": {"root"}, "password": {testPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("attacker during the back-off: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// The admin on their own network signs in at once.
	admin := e.clientFrom("127.0.1.7")
	admin.login("root")

	// The attacker's guesses keep getting slower: 2 s, then 4 s, then 8 s.
	for _, wait := range []string{"2", "4", "8"} {
		e.clock.Advance(time.Minute) // past the previous delay
		if r := guess("root"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess after the delay: %d", r.status)
		}
		if r := guess("root"); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != wait {
			t.Fatalf("immediate retry: %d, Retry-After %q, want %s", r.status, r.header.Get("Retry-After"), wait)
		}
	}
	// The attacker's address is slowed down for every account once its own
	// free failures are used (3 + 3 guesses so far, 8 free).
	for range 2 {
		e.clock.Advance(time.Minute)
		guess("rita")
	}
	if r := guess("someone"); r.status != http.StatusTooManyRequests {
		t.Fatalf("address over its free failures: %d", r.status)
	}
	// Another user on another network is unaffected.
	e.clientFrom("127.0.2.9").login("rita")
}
