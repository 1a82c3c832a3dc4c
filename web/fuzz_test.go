package web

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseToken checks that only the canonical 43-character form parses
// and that it round-trips.
func FuzzParseToken(f *testing.F) {
	tok, _, _ := NewToken()
	for _, s := range []string{tok, "", tok[:42], tok + "=", strings.Repeat("A", 43), strings.Repeat("_", 43), tok[:42] + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, _, ok := parseToken(s)
		if !ok {
			return
		}
		if len(raw) != tokenBytes || base64.RawURLEncoding.EncodeToString(raw) != s {
			t.Fatalf("accepted non-canonical %q", s)
		}
	})
}
