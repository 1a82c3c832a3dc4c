package config

import (
	"crypto/tls"
	"fmt"
)

// LoadCertificate reads a PEM certificate and key pair.
func LoadCertificate(t TLS) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return c, fmt.Errorf("load certificate: %w", unwrapPath(err))
	}
	return c, nil
}
