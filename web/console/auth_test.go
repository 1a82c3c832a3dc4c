package console

import (
	"github.com/sendguard/sendguard/internal/ratelimit"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

func TestSignInPasswordAndTOTP(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	c := e.client()
	c.login("rita")
	ev := e.events(hold.EventFilter{Action: auditSignIn})
	if len(ev) != 1 || ev[0].Actor.Name != "rita" || ev[0].Actor.Role != RoleReviewer ||
		ev[0].Actor.IP != "127.0.0.1" || ev[0].Actor.UserAgent != "console-test" || ev[0].Reason != "password+totp" {
		t.Fatalf("sign-in events: %+v", ev)
	}

	// Wrong password, then right password but wrong code.
	c2 := e.client()
	c2.get("/console/login")
	r := c2.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {"wrong password!"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "login-form") {
		t.Fatalf("wrong password: %d", r.status)
	}
	r = c2.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("right password: %d", r.status)
	}
	c2.get("/console/totp")
	e.clock.Advance(30 * time.Second)
	r = c2.postCSRF("/console/totp", url.Values{"code": {"000000"}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", r.status)
	}
	if r := c2.get("/console/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("queue after wrong code: %d", r.status)
	}
	// A code already used (replayed) is refused too.
	used := e.code("rita")
	c3 := e.client()
	c3.get("/console/login")
	c3.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}})
	c3.get("/console/totp")
	if r := c3.postCSRF("/console/totp", url.Values{"code": {used}}); r.status != http.StatusSeeOther {
		t.Fatalf("fresh code: %d", r.status)
	}
	c4 := e.client()
	c4.get("/console/login")
	c4.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}})
	c4.get("/console/totp")
	if r := c4.postCSRF("/console/totp", url.Values{"code": {used}}); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", r.status)
	}
	failed := e.events(hold.EventFilter{Action: auditSignInFailed})
	reasons := map[string]int{}
	for _, f := range failed {
		reasons[f.Reason]++
	}
	if reasons["password"] != 1 || reasons["totp"] != 2 {
		t.Fatalf("failed sign-in events: %v", reasons)
	}
}

func TestSignInLanguage(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("sato", RoleViewer)
	c := e.client()
	r := c.get("/console/login?lang=ja")
	mustContain(t, r.body, `lang="ja"`, "ユーザー名", "パスワード")
	c.postCSRF("/console/login", url.Values{"user": {"sato"}, "password": {testPassword}})
	if r := c.get("/console/totp"); !strings.Contains(r.body, "確認コード") {
		t.Fatal("second factor page not in Japanese")
	}
	c.postCSRF("/console/totp", url.Values{"code": {e.code("sato")}})
	if u, _ := e.h.users.get("sato"); u.Lang != "ja" {
		t.Fatalf("language not kept with the account: %q", u.Lang)
	}
	// The browser's preference applies before any choice.
	req, _ := http.NewRequest("GET", e.srv.URL+"/console/login", nil)
	req.Header.Set("Accept-Language", "ja-JP,ja;q=0.9,en;q=0.8")
	if r := e.client().do(req); !strings.Contains(r.body, `lang="ja"`) {
		t.Fatal("Accept-Language ignored")
	}
}

func TestSignInRateLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailuresPerUser = 3; c.MaxFailuresPerIP = 6 })
	e.addUser("rita", RoleReviewer)
	c := e.client()
	c.get("/console/login")
	for i, name := range []string{"rita", "RITA", " Rita"} { // case variants share the account's budget
		if r := c.postCSRF("/console/login", url.Values{"user": {name}, "password": {"not the password"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	// The account is now in back-off from this network: even the right
	// password is not checked until the delay has passed.
	if r := c.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("locked account: %d", r.status)
	}
	// Per IP: other names fail until the IP's budget is used up.
	for i := range 3 {
		c.postCSRF("/console/login", url.Values{"user": {"nobody" + string(rune('a'+i))}, "password": {"guess guess guess"}})
	}
	if r := c.postCSRF("/console/login", url.Values{"user": {"other"}, "password": {"guess guess guess"}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("blocked IP: %d", r.status)
	}
	if n := len(e.events(hold.EventFilter{Action: auditSignInFailed})); n != 8 {
		t.Fatalf("failed sign-in events: %d, want 8", n)
	}
	// After the delay the account signs in.
	e.clock.Advance(16 * time.Minute)
	c2 := e.client()
	c2.login("rita")
}

func TestSignInFormsBounded(t *testing.T) {
	e := newEnv(t, nil)
	e.h.formLim = ratelimit.New(3, 10*time.Minute, 10)
	c := e.client()
	for i := range 3 {
		if r := c.get("/console/login"); r.status != http.StatusOK {
			t.Fatalf("form %d: %d", i, r.status)
		}
	}
	if r := c.get("/console/login"); r.status != http.StatusTooManyRequests {
		t.Fatalf("fourth form: %d", r.status)
	}
	e.clock.Advance(11 * time.Minute)
	if r := c.get("/console/login"); r.status != http.StatusOK {
		t.Fatalf("after the window: %d", r.status)
	}
}

func TestSessionFixation(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	c := e.client()
	c.get("/console/login")
	pre := c.cookie()
	c.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}})
	mid := c.cookie()
	c.get("/console/totp")
	c.postCSRF("/console/totp", url.Values{"code": {e.code("rita")}})
	post := c.cookie()
	if pre == "" || pre == mid || mid == post || pre == post {
		t.Fatalf("session IDs not renewed: %q %q %q", pre, mid, post)
	}
	for _, old := range []string{pre, mid} {
		a := e.client()
		u, _ := url.Parse(e.srv.URL + "/console/")
		a.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: old, Path: "/console/"}})
		if r := a.get("/console/queue"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login") {
			t.Fatalf("old cookie still valid: %d", r.status)
		}
	}
	if r := c.get("/console/queue"); r.status != http.StatusOK {
		t.Fatalf("new cookie: %d", r.status)
	}
	// The cookie's attributes.
	r := e.client().get("/console/login")
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("http base URL but Secure cookie: %q", sc)
	}
}

func TestSecureCookieOnHTTPS(t *testing.T) {
	e := newEnv(t, nil)
	h, err := New(Config{Hold: e.hold, DB: e.sp.DB(), BaseURL: "https://mail.example.com/gw/"})
	if err != nil {
		t.Fatal(err)
	}
	w := &recorder{h: http.Header{}}
	req, _ := http.NewRequest("GET", "https://mail.example.com/gw/console/login", nil)
	req.RemoteAddr = "127.0.0.1:5000"
	h.ServeHTTP(w, req)
	sc := w.h.Get("Set-Cookie")
	if w.code != 200 || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "Path=/gw/console/") {
		t.Fatalf("https cookie: %d %q", w.code, sc)
	}
}

type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(c int) { r.code = c }

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	c := e.client()
	c.login("rita")
	e.clock.Advance(29 * time.Minute)
	if r := c.get("/console/queue"); r.status != http.StatusOK {
		t.Fatalf("29 min idle: %d", r.status)
	}
	e.clock.Advance(31 * time.Minute)
	if r := c.get("/console/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("31 min idle: %d", r.status)
	}
	c.login("rita")
	for range 36 { // 12 hours of activity every 20 minutes
		e.clock.Advance(20 * time.Minute)
		if r := c.get("/console/audit"); r.status != http.StatusOK {
			break
		}
	}
	if r := c.get("/console/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("after 12 h: %d", r.status)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	for next, want := range map[string]string{
		"https://evil.example":          "/console/",
		"//evil.example/console/":       "/console/",
		"/console//evil.example":        "/console/",
		"/console/\\evil.example":       "/console/",
		"/\\evil.example":               "/console/",
		"javascript:alert(1)":           "/console/",
		"/console/queue?state=rejected": "/console/queue?state=rejected",
	} {
		c := e.client()
		c.get("/console/login?next=" + url.QueryEscape(next))
		c.postCSRF("/console/login", url.Values{"user": {"rita"}, "password": {testPassword}})
		c.get("/console/totp")
		r := c.postCSRF("/console/totp", url.Values{"code": {e.code("rita")}})
		if got := r.header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
		// The language switch's next is checked the same way.
		c.get("/console/")
		r = c.postCSRF("/console/lang", url.Values{"lang": {"ja"}, "next": {next}})
		if got := r.header.Get("Location"); got != want {
			t.Errorf("lang next=%q: redirected to %q, want %q", next, got, want)
		}
	}
	// A signed-out visit to a page comes back to it after sign-in.
	c := e.client()
	r := c.get("/console/audit?action=signin")
	if loc := r.header.Get("Location"); loc != "/console/login?next="+url.QueryEscape("/console/audit?action=signin") {
		t.Fatalf("signed-out redirect: %q", loc)
	}
}

func TestProxySignIn(t *testing.T) {
	trusted := func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.ProxyUserHeader = "X-Forwarded-User"
	}
	e := newEnv(t, trusted)
	e.addUser("sso-admin", RoleAdmin)
	c := e.client()
	req, _ := http.NewRequest("GET", e.srv.URL+"/console/queue", nil)
	req.Header.Set("X-Forwarded-User", "sso-admin")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if r := c.do(req); r.status != http.StatusOK || !strings.Contains(r.body, "sso-admin") {
		t.Fatalf("proxy sign-in: %d", r.status)
	}
	ev := e.events(hold.EventFilter{Action: auditSignIn})
	if len(ev) != 1 || ev[0].Reason != "proxy" || ev[0].Actor.IP != "198.51.100.7" {
		t.Fatalf("proxy sign-in event: %+v", ev)
	}
	// An unknown user is not signed in.
	req, _ = http.NewRequest("GET", e.srv.URL+"/console/queue", nil)
	req.Header.Set("X-Forwarded-User", "mallory")
	if r := e.client().do(req); r.status != http.StatusSeeOther {
		t.Fatalf("unknown proxy user: %d", r.status)
	}

	// The header from an address that is not a trusted proxy is ignored.
	e2 := newEnv(t, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		c.ProxyUserHeader = "X-Forwarded-User"
	})
	e2.addUser("sso-admin", RoleAdmin)
	req, _ = http.NewRequest("GET", e2.srv.URL+"/console/queue", nil)
	req.Header.Set("X-Forwarded-User", "sso-admin")
	if r := e2.client().do(req); r.status != http.StatusSeeOther {
		t.Fatalf("untrusted proxy header honoured: %d", r.status)
	}
	if _, err := New(Config{Hold: e.hold, DB: e.sp.DB(), BaseURL: "http://x/", ProxyUserHeader: "X-User"}); err == nil {
		t.Fatal("proxy header without trusted proxies accepted")
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t, nil)
	u := e.h.Users()
	if _, err := u.AddUser("x", "root", testPassword); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := u.AddUser("x", RoleViewer, "short"); err == nil {
		t.Error("short password accepted")
	}
	if _, err := u.AddUser("bad name", RoleViewer, testPassword); err == nil {
		t.Error("name with space accepted")
	}
	e.addUser("vera", RoleViewer)
	if _, err := u.AddUser("Vera", RoleViewer, testPassword); err == nil {
		t.Error("duplicate (case-insensitive) accepted")
	}
	tu, err := u.AddUser("tom", RoleViewer, testPassword)
	if err != nil || !strings.HasPrefix(tu, "otpauth://totp/") || !strings.Contains(tu, "issuer=sendguard") {
		t.Fatalf("totp url %q, %v", tu, err)
	}
	// A new password replaces the old one and ends the account's sessions.
	live := e.client()
	live.login("vera")
	if err := u.SetPassword("vera", "another long password"); err != nil {
		t.Fatal(err)
	}
	if r := live.get("/console/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("session survived a password change: %d", r.status)
	}
	c := e.client()
	c.get("/console/login")
	if r := c.postCSRF("/console/login", url.Values{"user": {"vera"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", r.status)
	}
	if err := u.SetPassword("vera", testPassword); err != nil {
		t.Fatal(err)
	}
	// A reset TOTP secret makes the old secret's codes fail.
	old := e.secrets["vera"]
	nu, err := u.ResetTOTP("vera")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(nu)
	if pu.Query().Get("secret") == old {
		t.Fatal("secret not changed")
	}
	c.postCSRF("/console/login", url.Values{"user": {"vera"}, "password": {testPassword}})
	c.get("/console/totp")
	if r := c.postCSRF("/console/totp", url.Values{"code": {e.code("vera")}}); r.status != http.StatusUnauthorized {
		t.Fatalf("old secret's code: %d", r.status)
	}
	e.secrets["vera"] = pu.Query().Get("secret")
	if r := c.postCSRF("/console/totp", url.Values{"code": {e.code("vera")}}); r.status != http.StatusSeeOther {
		t.Fatalf("new secret's code: %d", r.status)
	}
	// A disabled account is signed out and cannot sign in.
	if err := u.SetDisabled("vera", true); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/console/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("disabled account still signed in: %d", r.status)
	}
	c.get("/console/login")
	if r := c.postCSRF("/console/login", url.Values{"user": {"vera"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("disabled account signs in: %d", r.status)
	}
	if _, err := u.ResetTOTP("nobody"); err == nil {
		t.Error("reset of unknown user")
	}
	// A demoted user loses the right at once.
	rc := e.client()
	e.addUser("rob", RoleReviewer)
	rc.login("rob")
	if err := u.SetRole("rob", RoleViewer); err != nil {
		t.Fatal(err)
	}
	if r := rc.get("/console/"); !strings.Contains(r.body, "role-viewer") {
		t.Fatal("role not re-read")
	}
	_ = cookiejar.Options{}
}

func TestRFC5987(t *testing.T) {
	for in, want := range map[string]string{"a b.pdf": "a%20b.pdf", "顧客.csv": "%E9%A1%A7%E5%AE%A2.csv", `x";y=z`: "x%22%3By%3Dz", "a\r\nb": "a%0D%0Ab"} {
		if got := rfc5987(in); got != want {
			t.Errorf("rfc5987(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("pässwörd 123456", testArgon)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("pässwörd 123456", testArgon)
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for pw, want := range map[string]bool{"pässwörd 123456": true, "password 123456": false, "": false} {
		if ok, err := checkPassword(pw, h); ok != want || err != nil {
			t.Errorf("check %q: %v %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", h[:len(h)-50]} {
		if ok, err := checkPassword("x", bad); ok || err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestHeadersOnEveryResponse(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	c := e.client()
	for _, p := range []string{"/console/login", "/console/static/console.css", "/console/static/console.js", "/console/static/favicon.svg",
		"/console/static/nope.css", "/console/nope", "/console/queue", "/nowhere"} {
		r := c.get(p) // client.do checks the CSP header
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
			if r.header.Get(k) != v {
				t.Errorf("%s: %s = %q", p, k, r.header.Get(k))
			}
		}
		if strings.HasSuffix(p, ".css") && r.status == 200 && r.header.Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("%s: content type %q", p, r.header.Get("Content-Type"))
		}
	}
	c.login("vera")
	for _, p := range []string{"/console/", "/console/queue", "/console/audit", "/console/policy", "/console/audit/export?format=csv", "/console/msg/nope"} {
		if r := c.get(p); r.status >= 500 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// No page carries inline script or style (the CSP would block it).
	r := c.get("/console/")
	for _, bad := range []string{"<script>", "style=", " onclick=", " onload="} {
		if strings.Contains(r.body, bad) {
			t.Errorf("dashboard has %q", bad)
		}
	}
}

// One language rule for every page: without a choice the console follows
// the browser, then the configured default, which is Japanese.
func TestConsoleDefaultLanguage(t *testing.T) {
	for _, tc := range []struct {
		def, accept, want string
	}{
		{"", "", `lang="ja"`},
		{"", "en-US,en;q=0.9", `lang="en"`},
		{"en", "", `lang="en"`},
		{"en", "ja", `lang="ja"`},
	} {
		e := newEnv(t, func(c *Config) { c.DefaultLang = tc.def })
		c := e.client()
		req, _ := http.NewRequest("GET", e.srv.URL+"/console/login", nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		if r := c.do(req); !strings.Contains(r.body, tc.want) {
			t.Errorf("default %q, Accept-Language %q: page lacks %s", tc.def, tc.accept, tc.want)
		}
	}
}
