package token_test

import (
	"strings"
	"testing"

	"github.com/sendguard/sendguard/crypto/token"
)

// FuzzParse checks that Parse accepts exactly the canonical text forms.
func FuzzParse(f *testing.F) {
	tok, _ := token.New()
	for _, s := range []string{tok.Text(), "", "A", strings.Repeat("A", 43), strings.Repeat("_", 43),
		strings.Repeat("A", 42) + "B", tok.Text() + "=", tok.Text()[:42] + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := token.Parse(s)
		if err != nil {
			return
		}
		if got.Text() != s {
			t.Fatalf("Parse(%q) accepted a non-canonical form of %q", s, got.Text())
		}
		if !token.Verify(s, got.Hash()) {
			t.Fatalf("Verify rejects parsed %q", s)
		}
	})
}

// FuzzTextRoundTrip checks that every 32-byte value survives Text and Parse.
func FuzzTextRoundTrip(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte(strings.Repeat("\xff", 32)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < token.Size {
			return
		}
		tok, err := token.FromReader(strings.NewReader(string(b)))
		if err != nil {
			return // all zeros
		}
		back, err := token.Parse(tok.Text())
		if err != nil || back != tok {
			t.Fatalf("round trip of % x: %v", b[:token.Size], err)
		}
	})
}
