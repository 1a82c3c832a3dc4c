package front

import (
	"crypto/tls"
	"errors"
	"sync/atomic"
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
