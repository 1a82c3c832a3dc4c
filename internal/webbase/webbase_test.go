package webbase

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestParseBase(t *testing.T) {
	b, err := ParseBase("https://gw.example.com:8443/sendguard")
	if err != nil || b.Origin != "https://gw.example.com:8443" || b.Path != "/sendguard/" || !b.Secure {
		t.Fatalf("%+v %v", b, err)
	}
	if b, _ := ParseBase("http://127.0.0.1:8025"); b.Path != "/" || b.Secure {
		t.Fatalf("%+v", b)
	}
	for _, bad := range []string{"", "ftp://x", "/relative", "http://", "::"} {
		if _, err := ParseBase(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKey(t *testing.T) {
	k, err := Key(nil)
	if err != nil || len(k) != 32 {
		t.Fatalf("%d %v", len(k), err)
	}
	if _, err := Key(make([]byte, 31)); !errors.Is(err, ErrShortKey) {
		t.Fatalf("short key: %v", err)
	}
	given := make([]byte, 40)
	if k, _ := Key(given); &k[0] != &given[0] {
		t.Fatal("a configured key was replaced")
	}
}

func TestCrossSite(t *testing.T) {
	const origin = "https://gw.example.com"
	cases := []struct {
		site, orig string
		cross      bool
	}{
		{"", "", false},                    // old client: the CSRF token decides
		{"same-origin", origin, false},     // our own form
		{"none", "", false},                // typed or bookmarked
		{"same-site", origin, true},        // a sibling subdomain
		{"cross-site", "", true},           // another site
		{"", "null", true},                 // a sandboxed page
		{"", "https://evil.example", true}, // another origin
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", origin+"/h/x", nil)
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if c.orig != "" {
			r.Header.Set("Origin", c.orig)
		}
		if got := CrossSite(r, origin); got != c.cross {
			t.Errorf("Sec-Fetch-Site %q Origin %q: cross=%v, want %v", c.site, c.orig, got, c.cross)
		}
	}
}

func TestSetHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	SetHeaders(w.Header(), "default-src 'none'")
	for k, v := range map[string]string{"Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "same-origin",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
