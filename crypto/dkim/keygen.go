package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
)

// GenerateKey makes a new signing key: alg "rsa" (bits ≥ MinRSABits) or
// "ed25519". It returns the key and its PKCS #8 PEM encoding.
func GenerateKey(alg string, bits int) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	switch alg {
	case "rsa":
		if bits < MinRSABits {
			return nil, nil, fmt.Errorf("%w: RSA key of %d bits (at least %d)", ErrWeakKey, bits, MinRSABits)
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, nil, err
		}
		key = k
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		key = k
	default:
		return nil, nil, fmt.Errorf("key type %q: want rsa or ed25519", alg)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// RecordValue is the DNS TXT record value that publishes k's public key
// (RFC 6376 §3.6.1; Ed25519 keys are the raw 32 bytes, RFC 8463 §4.2).
func RecordValue(k crypto.Signer) (string, error) {
	var p []byte
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		p = pub
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		p = der
	}
	return "v=DKIM1; k=" + Algorithm(k) + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// ZoneRecord formats the record as a zone-file line, split into strings of
// at most 255 bytes as DNS TXT requires (RFC 1035 §3.3.14).
func ZoneRecord(domain, selector, value string) string {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	var b strings.Builder
	fmt.Fprintf(&b, "%s._domainkey.%s. IN TXT (", selector, normDomain(domain))
	for _, p := range parts {
		fmt.Fprintf(&b, " %q", p)
	}
	b.WriteString(" )")
	return b.String()
}
