package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// tokenBytes is the entropy of a link token: 256 bits.
const tokenBytes = 32

// tokenLen is the length of a token's text: 32 bytes in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewToken makes a link token: its text for the notice's URL and the
// SHA-256 hash the hold store keeps. It is the one place tokens are made,
// to be replaced by crypto/token's New once that package lands.
func NewToken() (text string, hash [32]byte, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", hash, fmt.Errorf("read token randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), sha256.Sum256(b[:]), nil
}

// parseToken returns the raw bytes and hash of a token's text, accepting
// only the canonical form (43 base64url characters, no padding, no stray
// bits), so truncated or altered links fail before any lookup.
func parseToken(s string) (raw []byte, hash [32]byte, ok bool) {
	if len(s) != tokenLen {
		return nil, hash, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) != tokenBytes {
		return nil, hash, false
	}
	return raw, sha256.Sum256(raw), true
}
