// Package token makes the secrets carried in sendguard's links (confirm,
// approve, release, download): 256 random bits, written as 43 characters of
// unpadded base64url.
//
// Invariants:
//   - Only a token's SHA-256 Hash is ever stored; the token text exists in
//     the notice mail and the request URL, nowhere else. A store looks a
//     record up by Hash, which reveals nothing about the token, and confirms
//     it with Matches (constant time).
//   - Parse accepts exactly the canonical text form: 43 characters of
//     [A-Za-z0-9_-] whose last character carries no stray bits. Anything
//     else (padding, truncation, whitespace, line breaks) is ErrMalformed.
//   - A Token does not print itself: String, GoString and LogValue redact.
//     Text is the only way to get the secret out.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

const (
	// Size is the number of random bytes in a token.
	Size = 32
	// TextLen is the length of a token's text form.
	TextLen = 43
)

// ErrMalformed is returned for text that is not a token.
var ErrMalformed = errors.New("token: malformed")

var encoding = base64.RawURLEncoding.Strict()

// Token is a link secret. The zero Token is invalid.
type Token struct {
	b [Size]byte
}

// New returns a token from crypto/rand.
func New() (Token, error) { return FromReader(rand.Reader) }

// FromReader returns a token read from r, which must be a CSPRNG; it exists
// for tests.
func FromReader(r io.Reader) (Token, error) {
	var t Token
	if _, err := io.ReadFull(r, t.b[:]); err != nil {
		return Token{}, fmt.Errorf("token: read random source: %w", err)
	}
	if t.b == ([Size]byte{}) {
		return Token{}, errors.New("token: random source returned zeros")
	}
	return t, nil
}

// Parse reads a token's text form.
func Parse(s string) (Token, error) {
	if len(s) != TextLen {
		return Token{}, ErrMalformed
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return Token{}, ErrMalformed
		}
	}
	var t Token
	n, err := encoding.Decode(t.b[:], []byte(s))
	if err != nil || n != Size {
		return Token{}, ErrMalformed
	}
	return t, nil
}

// Text is the token's URL-safe text form: the secret itself.
func (t Token) Text() string { return encoding.EncodeToString(t.b[:]) }

// String redacts the token, so that %v never prints it.
func (t Token) String() string { return "token:REDACTED" }

// GoString redacts the token for %#v.
func (t Token) GoString() string { return t.String() }

// LogValue redacts the token in log/slog output.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// IsZero reports whether t is the invalid zero Token.
func (t Token) IsZero() bool { return t.b == [Size]byte{} }

// Hash is what a store keeps instead of the token.
func (t Token) Hash() Hash { return sha256.Sum256(t.b[:]) }

// Matches reports in constant time whether t hashes to h.
func (t Token) Matches(h Hash) bool { return t.Hash().Equal(h) }

// Hash is the SHA-256 of a token's bytes.
type Hash [sha256.Size]byte

// Equal compares in constant time.
func (h Hash) Equal(o Hash) bool { return subtle.ConstantTimeCompare(h[:], o[:]) == 1 }

// IsZero reports whether h is unset.
func (h Hash) IsZero() bool { return h == Hash{} }

// String is lowercase hex, for storage keys and audit records.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler (lowercase hex).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash reads the hex form written by Hash.String.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, fmt.Errorf("token: hash has %d characters, want %d", len(s), 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("token: parse hash: %w", err)
	}
	return h, nil
}

// Verify reports whether text is a well-formed token whose hash is stored.
// The comparison is constant-time; malformed text is rejected before it.
func Verify(text string, stored Hash) bool {
	t, err := Parse(text)
	if err != nil {
		return false
	}
	return t.Matches(stored)
}

// EqualText compares two secrets (tokens, CSRF values) in time that
// depends only on their lengths.
func EqualText(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
