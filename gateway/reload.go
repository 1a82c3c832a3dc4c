package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/sendguard/sendguard/hold"
)

// A reload replaces the inspection unit (analysis, policy, dictionaries,
// own data, approvers) and the certificates as a whole, built and
// validated before anything running is touched. The hot path pays one
// atomic load per message and per TLS handshake, never a lock; a message
// keeps the unit it loaded until it is accepted or refused.

// inspectorRef boxes an Inspector for atomic.Pointer.
type inspectorRef struct{ Inspector }

// SetInspector makes in the inspector of every message whose DATA starts
// from now on; messages being inspected finish with the one they started
// with.
func (s *Server) SetInspector(in Inspector) {
	if in == nil {
		s.insp.Store(nil)
		return
	}
	s.insp.Store(&inspectorRef{in})
}

// currentInspector is the inspector for a message starting now, nil for
// none (everything delivered as is).
func (s *Server) currentInspector() Inspector {
	if r := s.insp.Load(); r != nil {
		return r.Inspector
	}
	return nil
}

// CertSlot holds a TLS certificate that a reload can replace; handshakes
// in progress keep the one they loaded.
type CertSlot struct {
	p atomic.Pointer[tls.Certificate]
}

// Set replaces the certificate for handshakes from now on.
func (c *CertSlot) Set(cert *tls.Certificate) { c.p.Store(cert) }

// GetCertificate is tls.Config.GetCertificate.
func (c *CertSlot) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if cert := c.p.Load(); cert != nil {
		return cert, nil
	}
	return nil, errors.New("no certificate configured")
}

// TLSConfig is a server configuration that serves the slot's current
// certificate.
func (c *CertSlot) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.GetCertificate, MinVersion: tls.VersionTLS12}
}

// ReloadReport is the answer to a reload (sendguard reload, SIGHUP).
type ReloadReport struct {
	// OK is false when the new configuration was refused: the running
	// one stays in force and Errors says why.
	OK     bool            `json:"ok"`
	Errors []ReloadProblem `json:"errors,omitempty"`
	// Policy names the policy now in force and Rules counts its rules.
	Policy string `json:"policy,omitempty"`
	Rules  int    `json:"rules,omitempty"`
	// Changed are the live keys whose values changed (the policy file,
	// dictionaries and certificates are re-read whether or not they did).
	Changed []string `json:"changed,omitempty"`
	// RestartNeeded are changed keys that only take effect after a
	// restart; until then the running values stay in force.
	RestartNeeded []string `json:"restart_needed,omitempty"`
}

// ReloadProblem is one reason a configuration was refused.
type ReloadProblem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Key  string `json:"key,omitempty"`
	Msg  string `json:"msg"`
}

func (p ReloadProblem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ReloadFunc reloads the configuration on behalf of actor.
type ReloadFunc func(ctx context.Context, actor hold.Actor) ReloadReport

// reload is POST /v1/reload: the report, refused or not, is the answer;
// the CLI turns a refusal into its exit status.
func (a *Admin) reload(w http.ResponseWriter, r *http.Request) {
	if a.Reload == nil {
		a.fail(w, r, errors.New("reload is not available"))
		return
	}
	writeJSON(w, a.Reload(r.Context(), a.actor(r)))
}
