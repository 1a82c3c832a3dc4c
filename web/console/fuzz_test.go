package console

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext checks that every "next" the sign-in accepts stays on the
// console's host and under its path when a browser resolves it.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/console/queue", "//evil.example", "/console//evil", "/console/\\evil", "https://evil.example/console/",
		"/console/%2f%2fevil", "/console/../admin", "/console/?next=//x", "/console/\t/evil", "/console/%5c%5cevil"} {
		f.Add(s)
	}
	h := &Handler{prefix: "/console/"}
	base, _ := url.Parse("https://gw.example.com/console/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := h.safeNext(next)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted unparsable %q", got)
		}
		res := base.ResolveReference(u)
		if res.Host != "gw.example.com" || res.Scheme != "https" {
			t.Fatalf("%q leaves the host: %s", got, res)
		}
		if !strings.HasPrefix(got, "/console/") {
			t.Fatalf("%q leaves the console", got)
		}
	})
}

// FuzzCheckPassword feeds malformed hashes: no panic, and a hash of
// another password never matches.
func FuzzCheckPassword(f *testing.F) {
	good, _ := hashPassword("long enough password", testArgon)
	f.Add("long enough password", good)
	f.Add("x", "$argon2id$v=19$m=1024,t=1,p=1$$")
	f.Add("x", "$argon2id$v=19$m=0,t=0,p=0$AA$AA")
	f.Fuzz(func(t *testing.T, pw, hash string) {
		var m, tt, p uint64
		if parts := strings.Split(hash, "$"); len(parts) > 3 {
			fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &tt, &p)
		}
		if m > 1<<16 || tt > 4 || p > 8 {
			return // legal but too costly to run under the fuzzer
		}
		ok, _ := checkPassword(pw, hash)
		if ok && hash == good && pw != "long enough password" {
			t.Fatalf("%q matched another password's hash", pw)
		}
	})
}
