package front

import (
	"crypto/tls"
	"errors"
	"sync/atomic"
)

// A reload replaces the certificates as a whole (and, in the intake
// stage, the inspector), built and validated before anything running is
// touched; the hot path pays one atomic load per TLS handshake.

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
