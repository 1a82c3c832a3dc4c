package config

import "time"

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
