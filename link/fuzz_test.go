package link

import (
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type mimeDecoder = mime.WordDecoder

// FuzzParseCode: whatever is typed, an accepted code is exactly
// CodeDigits ASCII digits and parsing it again gives itself.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"12345678", "1234 5678", "１２３４５６７８", "1234-567", "", "\x00", "12345678901234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		if len(c) != CodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("ParseCode(%q) = %q", s, c)
		}
		if again, err := ParseCode(c); err != nil || again != c {
			t.Fatalf("not idempotent: %q", c)
		}
	})
}

// FuzzLinkPaths sends arbitrary paths and forms at the pages with one
// real package in the store: nothing panics, every response has the CSP,
// and nothing but the real link's page and the stylesheet answers 200.
func FuzzLinkPaths(f *testing.F) {
	e := newEnv(f, nil)
	c := e.create(e.pkg())
	real := c.Links[0].Token.Text()
	for _, s := range []string{real, real + "/file/0", real + "/verify", "revoke/" + real, "static/style.css", real[:42],
		"revoke/" + c.RevokeToken.Text(), "%2e%2e/", "a/b/c", real + "/file/-1", "//x"} {
		f.Add("GET", s, "")
		f.Add("POST", s, "action=send_code&csrf=x")
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		req, err := http.NewRequest(method, "http://127.0.0.1/d/"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("%s %q: no CSP", method, path)
		}
		if w.Code == http.StatusOK && req.URL.Path != "/d/"+real && req.URL.Path != "/d/static/style.css" && req.URL.Path != "/d/static/favicon.svg" &&
			req.URL.Path != "/d/revoke/"+c.RevokeToken.Text() {
			t.Fatalf("%s %q answered 200", method, req.URL.Path)
		}
	})
}
