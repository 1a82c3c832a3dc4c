package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/crypto/token"
)

func TestNewParseRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := token.New()
		if err != nil {
			t.Fatal(err)
		}
		text := tok.Text()
		if len(text) != token.TextLen {
			t.Fatalf("text length %d", len(text))
		}
		if seen[text] {
			t.Fatal("duplicate token")
		}
		seen[text] = true
		back, err := token.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if back != tok || back.Text() != text {
			t.Fatal("round trip changed the token")
		}
		if !token.Verify(text, tok.Hash()) || !back.Matches(tok.Hash()) {
			t.Fatal("token does not verify against its own hash")
		}
	}
}

func TestKnownVector(t *testing.T) {
	tok, err := token.FromReader(bytes.NewReader(bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Text(), strings.Repeat("-_8B", 10)+"-_8"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got, want := tok.Hash().String(), hashOfPattern(); got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
}

// hashOfPattern is the SHA-256 of fb ff 01 repeated and cut to 32 bytes,
// computed outside Go with sha256sum.
func hashOfPattern() string {
	return "88133c9a591a82d0a3665d25d7a3f5aa79638cded8567d440846b150d81046c8"
}

func TestParseRejects(t *testing.T) {
	tok, _ := token.New()
	good := tok.Text()
	last := good[len(good)-1]
	for name, s := range map[string]string{
		"empty":          "",
		"truncated":      good[:42],
		"one extra":      good + "A",
		"padded":         good + "=",
		"std alphabet +": "+" + good[1:],
		"std alphabet /": good[:10] + "/" + good[11:],
		"space":          good[:20] + " " + good[21:],
		"newline inside": good[:20] + "\n" + good[20:42],
		"trailing nl":    good[:42] + "\n",
		"non-canonical":  good[:42] + string(nonCanonical(last)),
		"non-ascii":      good[:41] + "é",
	} {
		if _, err := token.Parse(s); !errors.Is(err, token.ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", name, s, err)
		}
		if token.Verify(s, tok.Hash()) {
			t.Errorf("%s: Verify accepted %q", name, s)
		}
	}
}

// nonCanonical returns another base64url character with the same top four
// bits as c, i.e. nonzero bits where the 43rd character must have zeros.
func nonCanonical(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i|1]
}

func TestHashCompare(t *testing.T) {
	a, _ := token.New()
	b, _ := token.New()
	if a.Matches(b.Hash()) || token.Verify(a.Text(), b.Hash()) {
		t.Error("different tokens match")
	}
	h := a.Hash()
	h2 := h
	h2[31] ^= 1
	if h.Equal(h2) || !h.Equal(a.Hash()) {
		t.Error("Hash.Equal wrong")
	}
	parsed, err := token.ParseHash(h.String())
	if err != nil || parsed != h {
		t.Errorf("ParseHash round trip: %v", err)
	}
	for _, bad := range []string{"", h.String()[:63], h.String() + "0", strings.Repeat("g", 64)} {
		if _, err := token.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
	js, err := json.Marshal(struct{ H token.Hash }{h})
	if err != nil || !strings.Contains(string(js), h.String()) {
		t.Fatalf("JSON %s: %v", js, err)
	}
	var back struct{ H token.Hash }
	if err := json.Unmarshal(js, &back); err != nil || back.H != h {
		t.Errorf("JSON round trip: %v", err)
	}
	if !token.EqualText("abc", "abc") || token.EqualText("abc", "abd") || token.EqualText("abc", "abcd") {
		t.Error("EqualText wrong")
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok, _ := token.New()
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("issued", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logged.String()} {
		if strings.Contains(s, tok.Text()) {
			t.Errorf("token text leaked: %s", s)
		}
	}
	js, _ := json.Marshal(tok)
	if strings.Contains(string(js), tok.Text()) {
		t.Errorf("token leaked in JSON: %s", js)
	}
}

func TestZeroSourceRefused(t *testing.T) {
	if _, err := token.FromReader(bytes.NewReader(make([]byte, 64))); err == nil {
		t.Error("all-zero token accepted")
	}
	if _, err := token.FromReader(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("short read accepted")
	}
}
