package config

import "time"

// Untrusted limits clients that are neither in smtp.trusted_networks nor
// authenticated yet. They have their own connection pool, separate from
// smtp.max_connections, and a short life until AUTH succeeds.
type Untrusted struct {
	MaxConnections      int `yaml:"max_connections"`
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// AuthTimeout is how long such a client may stay connected without
	// authenticating, whatever it sends.
	AuthTimeout time.Duration `yaml:"auth_timeout"`
	// MaxCommands bounds the commands (NOOP, RSET, EHLO, ... counted as
	// round trips) before authentication.
	MaxCommands int `yaml:"max_commands"`
	// MaxRefused refused commands (MAIL, RCPT, AUTH) end the connection
	// with 421 4.7.0.
	MaxRefused int `yaml:"max_refused"`
}

// AuthBackoff is the exponential back-off on failed SMTP AUTH: after the
// free failures each attempt waits Base, doubling up to Max; attempts
// during the wait get 454 4.7.0 without their password being checked.
type AuthBackoff struct {
	PerIPFree      int           `yaml:"per_ip_free"`
	PerAccountFree int           `yaml:"per_account_free"`
	Base           time.Duration `yaml:"base"`
	Max            time.Duration `yaml:"max"`
}

// checkUntrusted validates the limits on unauthenticated outsiders and
// the AUTH back-off.
func (v *validator) checkUntrusted(s *SMTP) {
	u := s.Untrusted
	if u.MaxConnections < 1 {
		v.add("smtp.untrusted.max_connections", "must be at least 1")
	}
	if u.MaxConnectionsPerIP < 1 {
		v.add("smtp.untrusted.max_connections_per_ip", "must be at least 1")
	}
	if u.AuthTimeout < time.Second {
		v.add("smtp.untrusted.auth_timeout", "must be at least 1s")
	}
	if u.MaxCommands < 5 {
		v.add("smtp.untrusted.max_commands", "must be at least 5 (EHLO, STARTTLS, EHLO, AUTH need four)")
	}
	if u.MaxRefused < 1 {
		v.add("smtp.untrusted.max_refused", "must be at least 1")
	}
	b := s.AuthBackoff
	if b.PerIPFree < 1 {
		v.add("smtp.auth_backoff.per_ip_free", "must be at least 1")
	}
	if b.PerAccountFree < 1 {
		v.add("smtp.auth_backoff.per_account_free", "must be at least 1")
	}
	if b.Base <= 0 {
		v.add("smtp.auth_backoff.base", "must be positive")
	}
	if b.Max < b.Base {
		v.add("smtp.auth_backoff.max", "must be at least smtp.auth_backoff.base")
	}
}

// checkWebLimits validates the web listener's timeouts and caps.
func (v *validator) checkWebLimits(w *Web) {
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"web.read_timeout", w.ReadTimeout}, {"web.write_timeout", w.WriteTimeout}, {"web.idle_timeout", w.IdleTimeout}} {
		if d.val < time.Second {
			v.add(d.key, "must be at least 1s")
		}
	}
	if w.MaxHeaderBytes < 4096 {
		v.add("web.max_header_bytes", "must be at least 4096")
	}
	if w.MaxBodyBytes < 64<<10 {
		v.add("web.max_body_bytes", "must be at least 65536")
	}
	if w.MaxConnections < 1 {
		v.add("web.max_connections", "must be at least 1")
	}
	if w.MaxConnectionsPerIP < 1 || w.MaxConnectionsPerIP > w.MaxConnections {
		v.add("web.max_connections_per_ip", "must be between 1 and web.max_connections")
	}
}
