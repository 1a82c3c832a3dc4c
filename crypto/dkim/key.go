package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// MinRSABits is the smallest RSA key accepted (RFC 8301 §3.2 requires
// verifiers to accept 1024 bits; smaller than 2048 is considered weak).
const MinRSABits = 2048

// ErrWeakKey reports an RSA key below MinRSABits.
var ErrWeakKey = errors.New("weak key")

// LoadKey reads a PEM private key (PKCS #8, or PKCS #1 for RSA) and checks
// it is usable for DKIM. Errors name the file, never the key material.
func LoadKey(path string) (crypto.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("dkim key %s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("dkim key %s: readable by every user (mode %04o): chmod 600 or 640", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", path, unwrapPath(err))
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", path, err)
	}
	return k, nil
}

// ParseKey parses a PEM private key and checks its type and strength.
func ParseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key DKIM can use (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		// x509's messages describe the structure only, never the key.
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits (at least %d)", ErrWeakKey, bits, MinRSABits)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported key type %T: DKIM signs with RSA or Ed25519", key)
	}
}

// Algorithm is the k= tag of a key: "rsa" or "ed25519".
func Algorithm(k crypto.Signer) string {
	if _, ok := k.Public().(ed25519.PublicKey); ok {
		return "ed25519"
	}
	return "rsa"
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
