package atrest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
)

// KeySize is the size of master and file keys.
const KeySize = 32

const keyIDSize = 8

// ErrKeySize is returned for a master key that is not 32 bytes.
var ErrKeySize = errors.New("atrest: master key must be 32 bytes")

// MasterKey wraps and unwraps per-file keys. It is safe for concurrent use.
type MasterKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// GenerateKey returns 32 random bytes for a new master key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("atrest: generate key: %w", err)
	}
	return k, nil
}

// NewMasterKey returns a MasterKey for a 32-byte secret. Its ID, stored in
// every file header, is derived from the secret so that a reader can pick
// the right key among several during rotation.
func NewMasterKey(secret []byte) (*MasterKey, error) {
	if len(secret) != KeySize {
		return nil, ErrKeySize
	}
	aead, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	mk := &MasterKey{aead: aead}
	h := sha256.Sum256(append([]byte("sendguard atrest master key id\x00"), secret...))
	copy(mk.id[:], h[:])
	return mk, nil
}

// ID is the key's public identifier in hex.
func (mk *MasterKey) ID() string { return hex.EncodeToString(mk.id[:]) }

// String prints only the ID.
func (mk *MasterKey) String() string { return "atrest.MasterKey(" + mk.ID() + ")" }

// GoString prints only the ID.
func (mk *MasterKey) GoString() string { return mk.String() }

// LogValue prints only the ID.
func (mk *MasterKey) LogValue() slog.Value { return slog.StringValue(mk.String()) }

// wrap seals a file key under the master key, bound to ad.
func (mk *MasterKey) wrap(nonce, fileKey, ad []byte) []byte {
	return mk.aead.Seal(nil, nonce, fileKey, ad)
}

func (mk *MasterKey) unwrap(nonce, wrapped, ad []byte) ([]byte, error) {
	k, err := mk.aead.Open(nil, nonce, wrapped, ad)
	if err != nil {
		return nil, fmt.Errorf("%w: file key does not unwrap", ErrTampered)
	}
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("atrest: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("atrest: gcm: %w", err)
	}
	return aead, nil
}
