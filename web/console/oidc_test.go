package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sendguard/sendguard/hold"
)

// testOP is a real OpenID Provider (zitadel's op package with its example
// in-memory storage and login page) on a loopback port. It signs RS256 ID
// tokens carrying a groups claim. tamper, when set, rewrites the ID token
// of the next token responses and signs it again with the key it returns,
// as a compromised or misconfigured provider (or a forger) would.
type testOP struct {
	srv    *httptest.Server
	issuer string
	st     *opStorage

	mu     sync.Mutex
	tamper func(claims map[string]any) *rsa.PrivateKey
}

const (
	opClientID     = "sendguard-console"
	opClientSecret = "client-secret-for-tests"
	opPassword     = "idp password"
)

// opStorage adds the profile claims and the user's groups to ID tokens.
type opStorage struct {
	*storage.Storage
	groups map[string][]string // user ID → groups
}

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, tr op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, tr, append(scopes, zoidc.ScopeProfile, zoidc.ScopeEmail)); err != nil {
		return err
	}
	if g, ok := s.groups[tr.GetSubject()]; ok {
		ui.AppendClaims("groups", g)
	}
	return nil
}

type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u opUsers) ExampleClientID() string { return "service" }

// startOP starts the provider for a console whose callback is redirect.
func startOP(t testing.TB, redirect string) *testOP {
	t.Helper()
	users := opUsers{}
	groups := map[string][]string{}
	for _, u := range []struct {
		name   string
		groups []string
	}{
		{"rev", []string{"sec-team"}},
		{"adm", []string{"sec-team", "sec-admins"}},
		{"aud", []string{"auditors", "sales"}},
		{"out", []string{"sales"}},
	} {
		id := "sub-" + u.name
		users[id] = &storage.User{ID: id, Username: u.name, Password: opPassword, FirstName: u.name, LastName: "Test",
			Email: u.name + "@example.com", EmailVerified: true}
		groups[id] = u.groups
	}
	clients := map[string]*storage.Client{opClientID: storage.WebClient(opClientID, opClientSecret, redirect)}
	st := &opStorage{Storage: storage.NewStorageWithClients(users, clients), groups: groups}
	o := &testOP{st: st}
	o.srv = httptest.NewUnstartedServer(nil)
	o.issuer = "http://" + o.srv.Listener.Addr().String()
	router := exampleop.SetupServer(o.issuer, st, nil, false)
	o.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		tamper := o.tamper
		o.mu.Unlock()
		if tamper == nil || r.URL.Path != "/oauth/token" {
			router.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, r)
		o.rewrite(t, w, rec, tamper)
	})
	o.srv.Start()
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOP) setTamper(f func(claims map[string]any) *rsa.PrivateKey) {
	o.mu.Lock()
	o.tamper = f
	o.mu.Unlock()
}

// signingKey is the provider's own RS256 key and its key ID.
func (o *testOP) signingKey(t testing.TB) (*rsa.PrivateKey, string) {
	k, err := o.st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k.Key().(*rsa.PrivateKey), k.ID()
}

// rewrite re-signs the ID token of a token response after tamper.
func (o *testOP) rewrite(t testing.TB, w http.ResponseWriter, rec *httptest.ResponseRecorder, tamper func(map[string]any) *rsa.PrivateKey) {
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	raw, _ := body["id_token"].(string)
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Errorf("id token payload: %v", err)
		return
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Errorf("id token claims: %v", err)
		return
	}
	key := tamper(claims)
	_, kid := o.signingKey(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Errorf("signer: %v", err)
		return
	}
	np, _ := json.Marshal(claims)
	jws, err := signer.Sign(np)
	if err != nil {
		t.Errorf("sign: %v", err)
		return
	}
	body["id_token"], _ = jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// ssoEnv is a console with SSO against a fresh provider.
func ssoEnv(t *testing.T, mutate func(*Config, *SSOConfig)) (*env, *testOP) {
	t.Helper()
	var o *testOP
	e := newEnv(t, func(c *Config) {
		redirect := c.BaseURL + "console/sso/callback"
		o = startOP(t, redirect)
		sc := SSOConfig{Issuer: o.issuer, ClientID: opClientID, ClientSecret: opClientSecret, RedirectURL: redirect,
			Scopes: []string{"profile", "email"}, DiscoveryTimeout: 5 * time.Second,
			Roles:  map[string][]string{RoleAdmin: {"sec-admins"}, RoleReviewer: {"sec-team"}, RoleViewer: {"auditors"}},
			Logger: c.Logger}
		if mutate != nil {
			mutate(c, &sc)
		}
		sso, err := NewSSO(sc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sso.Discover(ctx); err != nil && sc.Issuer == o.issuer {
			t.Fatal(err)
		}
		c.SSO = sso
	})
	return e, o
}

// browser follows no redirect by itself, so each hop can be checked.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer r.Body.Close()
	data, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(data), r.Header
}

// location resolves a redirect against the request URL.
func location(t *testing.T, from string, h http.Header) string {
	t.Helper()
	base, _ := url.Parse(from)
	loc, err := base.Parse(h.Get("Location"))
	if err != nil || h.Get("Location") == "" {
		t.Fatalf("no redirect from %s", from)
	}
	return loc.String()
}

// toProvider opens the console's sign-in page and presses "Sign in with
// SSO"; it returns the authorisation URL.
func (b *browser) toProvider(e *env) string {
	b.t.Helper()
	st, page, hd := b.do("GET", e.srv.URL+"/console/login", nil)
	if st != 200 || !strings.Contains(page, `id="sso"`) {
		b.t.Fatalf("sign-in page without SSO button: %d\n%s", st, page)
	}
	if got := hd.Get("Content-Security-Policy"); !strings.Contains(got, "form-action 'self' http://127.0.0.1:") {
		b.t.Errorf("sign-in page CSP does not allow the provider as form action: %s", got)
	}
	m := csrfRe.FindStringSubmatch(page)
	st, _, hd = b.do("POST", e.srv.URL+"/console/sso/start", url.Values{"csrf": {m[1]}})
	if st != http.StatusSeeOther {
		b.t.Fatalf("sso start: %d", st)
	}
	return location(b.t, e.srv.URL+"/console/sso/start", hd)
}

// signInAtProvider logs user in on the provider's page and returns the
// console callback URL (with code and state) the provider redirects to.
func (b *browser) signInAtProvider(authURL, user string) string {
	b.t.Helper()
	st, _, hd := b.do("GET", authURL, nil)
	if st != http.StatusFound {
		b.t.Fatalf("authorize: %d", st)
	}
	login := location(b.t, authURL, hd)
	lu, _ := url.Parse(login)
	st, _, hd = b.do("POST", login, url.Values{"id": {lu.Query().Get("authRequestID")}, "username": {user}, "password": {opPassword}})
	if st != http.StatusFound {
		b.t.Fatalf("provider login: %d", st)
	}
	next := location(b.t, login, hd)
	st, _, hd = b.do("GET", next, nil)
	if st != http.StatusFound {
		b.t.Fatalf("authorize callback: %d", st)
	}
	return location(b.t, next, hd)
}

func lastEvent(t *testing.T, e *env, action string) hold.Event {
	t.Helper()
	evs, _, err := e.hold.EventsRange(context.Background(), hold.EventFilter{Action: action}, hold.EventPage{Limit: 1, Desc: true})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s event: %v", action, err)
	}
	return evs[0]
}

func TestSSOSignInPerRole(t *testing.T) {
	e, o := ssoEnv(t, nil)
	for _, tc := range []struct{ user, role string }{{"rev", RoleReviewer}, {"adm", RoleAdmin}, {"aud", RoleViewer}} {
		t.Run(tc.user, func(t *testing.T) {
			b := newBrowser(t)
			auth := b.toProvider(e)
			au, _ := url.Parse(auth)
			q := au.Query()
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" ||
				q.Get("nonce") == "" || q.Get("client_id") != opClientID || !strings.Contains(q.Get("scope"), "openid") {
				t.Fatalf("authorisation request lacks PKCE, state or nonce: %s", auth)
			}
			cb := b.signInAtProvider(auth, tc.user)
			if !strings.HasPrefix(cb, e.srv.URL+"/console/sso/callback?") {
				t.Fatalf("provider sent the browser to %s", cb)
			}
			st, _, hd := b.do("GET", cb, nil)
			if st != http.StatusSeeOther || hd.Get("Location") != "/console/" {
				t.Fatalf("callback: %d %s", st, hd.Get("Location"))
			}
			var sess, pre *http.Cookie
			for _, c := range (&http.Response{Header: hd}).Cookies() {
				switch c.Name {
				case cookieName:
					sess = c
				case ssoCookieName:
					pre = c
				}
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || pre == nil || pre.MaxAge >= 0 {
				t.Fatalf("cookies after callback: session %+v, pre-auth %+v", sess, pre)
			}
			st, page, _ := b.do("GET", e.srv.URL+"/console/queue", nil)
			if st != 200 || !strings.Contains(page, `role-`+tc.role) || !strings.Contains(page, ">"+tc.user+" <") {
				t.Fatalf("queue as %s: %d\n%s", tc.user, st, page)
			}
			// The role applies: only admins verify the audit chain.
			m := csrfRe.FindStringSubmatch(page)
			st, _, _ = b.do("POST", e.srv.URL+"/console/audit/verify", url.Values{"csrf": {m[1]}})
			if (st == 200) != (tc.role == RoleAdmin) {
				t.Fatalf("audit verify as %s: %d", tc.role, st)
			}
			ev := lastEvent(t, e, auditSignIn)
			if ev.Actor.Name != tc.user || ev.Actor.Role != tc.role || !strings.Contains(ev.Reason, "sign-in via OIDC") ||
				!strings.Contains(ev.Reason, `"sub-`+tc.user+`"`) || !strings.Contains(ev.Reason, o.issuer) {
				t.Fatalf("sign-in event: %+v", ev)
			}
			// Language choice is kept on the SSO session (no local account).
			st, _, _ = b.do("POST", e.srv.URL+"/console/lang", url.Values{"csrf": {m[1]}, "lang": {"ja"}, "next": {"/console/queue"}})
			if st != http.StatusSeeOther {
				t.Fatalf("set language: %d", st)
			}
			if _, page, _ = b.do("GET", e.srv.URL+"/console/queue", nil); !strings.Contains(page, `lang="ja"`) {
				t.Fatal("language not kept on the SSO session")
			}
			// Sign-out ends the session.
			b.do("POST", e.srv.URL+"/console/logout", url.Values{"csrf": {m[1]}})
			if st, _, _ = b.do("GET", e.srv.URL+"/console/queue", nil); st != http.StatusSeeOther {
				t.Fatalf("after sign-out: %d", st)
			}
		})
	}
}

func TestSSOUnmappedUserRefused(t *testing.T) {
	e, o := ssoEnv(t, nil)
	b := newBrowser(t)
	cb := b.signInAtProvider(b.toProvider(e), "out")
	st, page, hd := b.do("GET", cb, nil)
	if st != http.StatusForbidden || !strings.Contains(page, "no group that has a role") || !strings.Contains(page, `id="back-to-login"`) {
		t.Fatalf("unmapped user: %d\n%s", st, page)
	}
	for _, c := range (&http.Response{Header: hd}).Cookies() {
		if c.Name == cookieName && c.MaxAge >= 0 {
			t.Fatalf("refused user got a session cookie: %+v", c)
		}
	}
	if st, _, _ = b.do("GET", e.srv.URL+"/console/queue", nil); st != http.StatusSeeOther {
		t.Fatalf("refused user reaches the queue: %d", st)
	}
	ev := lastEvent(t, e, auditSignInFailed)
	if ev.Actor.Name != "out" || !strings.Contains(ev.Reason, "no mapped group") || !strings.Contains(ev.Reason, o.issuer) {
		t.Fatalf("refusal event: %+v", ev)
	}
}

func TestSSOReplayedState(t *testing.T) {
	e, _ := ssoEnv(t, nil)
	b := newBrowser(t)
	cb := b.signInAtProvider(b.toProvider(e), "rev")
	if st, _, _ := b.do("GET", cb, nil); st != http.StatusSeeOther {
		t.Fatalf("first callback: %d", st)
	}
	// The same callback again, even with the pre-auth cookie put back:
	// the state was used.
	b2 := newBrowser(t)
	auth := b2.toProvider(e)
	cu, _ := url.Parse(e.srv.URL + "/console/sso/")
	pre := b2.c.Jar.Cookies(cu)
	if len(pre) != 1 || pre[0].Name != ssoCookieName {
		t.Fatalf("pre-auth cookie: %+v", pre)
	}
	st, page, _ := b.do("GET", cb, nil)
	if st != http.StatusBadRequest || !strings.Contains(page, "no longer valid") {
		t.Fatalf("replayed callback: %d", st)
	}
	// A callback carrying someone else's code and state in a browser
	// with its own pending sign-in: state mismatch, and that pending
	// sign-in is spent too.
	st, _, _ = b2.do("GET", cb, nil)
	if st != http.StatusBadRequest {
		t.Fatalf("foreign state: %d", st)
	}
	cb2 := b2.signInAtProvider(auth, "rev")
	if st, _, _ = b2.do("GET", cb2, nil); st != http.StatusBadRequest {
		t.Fatalf("pending sign-in survived a mismatched callback: %d", st)
	}
	if ev := lastEvent(t, e, auditSignInFailed); !strings.Contains(ev.Reason, "oidc: ") {
		t.Fatalf("refusal event: %+v", ev)
	}
}

func TestSSOCodeNeedsPKCEVerifier(t *testing.T) {
	e, o := ssoEnv(t, nil)
	b := newBrowser(t)
	cb := b.signInAtProvider(b.toProvider(e), "adm")
	cu, _ := url.Parse(cb)
	code := cu.Query().Get("code")
	// Whoever intercepts the code cannot redeem it without the verifier,
	// even with the client's credentials.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.srv.URL + "/console/sso/callback"}}
	req, _ := http.NewRequest("POST", o.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(opClientID, opClientSecret)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode == http.StatusOK || bytes.Contains(body, []byte("id_token")) {
		t.Fatalf("code redeemed without PKCE verifier: %d %s", r.StatusCode, body)
	}
	// A browser without the pre-auth cookie (so without the verifier)
	// cannot use the callback either.
	if st, _, _ := newBrowser(t).do("GET", cb, nil); st != http.StatusBadRequest {
		t.Fatalf("callback without pre-auth cookie: %d", st)
	}
}

func TestSSOBadIDTokens(t *testing.T) {
	e, o := ssoEnv(t, nil)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := o.signingKey(t)
	for _, tc := range []struct {
		name, reason string
		tamper       func(map[string]any) *rsa.PrivateKey
	}{
		{"wrong issuer", "issued by a different provider", func(c map[string]any) *rsa.PrivateKey {
			c["iss"] = "http://127.0.0.1:1"
			return own
		}},
		{"expired", "token is expired", func(c map[string]any) *rsa.PrivateKey {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			return own
		}},
		{"forged", "signature", func(c map[string]any) *rsa.PrivateKey { return other }},
		{"other audience", "audience", func(c map[string]any) *rsa.PrivateKey {
			c["aud"] = []string{"another-client"}
			return own
		}},
		{"wrong nonce", "nonce mismatch", func(c map[string]any) *rsa.PrivateKey {
			c["nonce"] = "replayed-nonce"
			return own
		}},
		{"no groups", "no mapped group", func(c map[string]any) *rsa.PrivateKey {
			delete(c, "groups")
			return own
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o.setTamper(tc.tamper)
			defer o.setTamper(nil)
			b := newBrowser(t)
			cb := b.signInAtProvider(b.toProvider(e), "adm")
			st, page, _ := b.do("GET", cb, nil)
			if st != http.StatusForbidden {
				t.Fatalf("status %d\n%s", st, page)
			}
			if st, _, _ = b.do("GET", e.srv.URL+"/console/queue", nil); st != http.StatusSeeOther {
				t.Fatalf("refused token signed in: %d", st)
			}
			ev := lastEvent(t, e, auditSignInFailed)
			if !strings.Contains(ev.Reason, tc.reason) {
				t.Fatalf("refusal event reason %q lacks %q", ev.Reason, tc.reason)
			}
		})
	}
	// The same tamper hook with nothing changed still signs in: the
	// refusals above come from the changes, not from the re-signing.
	o.setTamper(func(map[string]any) *rsa.PrivateKey { return own })
	b := newBrowser(t)
	cb := b.signInAtProvider(b.toProvider(e), "adm")
	if st, _, _ := b.do("GET", cb, nil); st != http.StatusSeeOther {
		t.Fatalf("untampered re-signed token refused: %d", st)
	}
}

func TestSSOEmailMustBeVerified(t *testing.T) {
	e, o := ssoEnv(t, func(_ *Config, s *SSOConfig) { s.UsernameClaim = "email" })
	b := newBrowser(t)
	if st, _, _ := b.do("GET", b.signInAtProvider(b.toProvider(e), "rev"), nil); st != http.StatusSeeOther {
		t.Fatalf("verified email refused: %d", st)
	}
	if ev := lastEvent(t, e, auditSignIn); ev.Actor.Name != "rev@example.com" {
		t.Fatalf("signed in as %q", ev.Actor.Name)
	}
	o.setTamper(func(c map[string]any) *rsa.PrivateKey {
		c["email_verified"] = false
		k, _ := o.signingKey(t)
		return k
	})
	b = newBrowser(t)
	if st, _, _ := b.do("GET", b.signInAtProvider(b.toProvider(e), "rev"), nil); st != http.StatusForbidden {
		t.Fatalf("unverified email signed in: %d", st)
	}
	if ev := lastEvent(t, e, auditSignInFailed); !strings.Contains(ev.Reason, "email not verified") {
		t.Fatalf("refusal: %+v", ev)
	}
}

func TestSSOProviderUnavailable(t *testing.T) {
	// The configured issuer is not what the provider says it is, so
	// discovery fails: SSO is unavailable and local sign-in still works.
	e, _ := ssoEnv(t, func(c *Config, s *SSOConfig) { s.Issuer += "/realms/other" })
	if e.h.sso.Ready() {
		t.Fatal("discovery accepted a different issuer")
	}
	e.addUser("tanaka", RoleAdmin)
	b := newBrowser(t)
	st, page, hd := b.do("GET", e.srv.URL+"/console/login", nil)
	if st != 200 || !strings.Contains(page, `id="sso-down"`) || strings.Contains(page, `id="sso"`) || !strings.Contains(page, `id="login-form"`) {
		t.Fatalf("sign-in page while the provider is down: %d\n%s", st, page)
	}
	if hd.Get("Content-Security-Policy") != csp {
		t.Fatalf("CSP widened without a provider: %s", hd.Get("Content-Security-Policy"))
	}
	m := csrfRe.FindStringSubmatch(page)
	if st, _, _ = b.do("POST", e.srv.URL+"/console/sso/start", url.Values{"csrf": {m[1]}}); st != http.StatusServiceUnavailable {
		t.Fatalf("sso start without provider: %d", st)
	}
	// Local sign-in (break-glass).
	_, page, _ = b.do("GET", e.srv.URL+"/console/login", nil)
	m = csrfRe.FindStringSubmatch(page)
	st, _, _ = b.do("POST", e.srv.URL+"/console/login", url.Values{"csrf": {m[1]}, "user": {"tanaka"}, "password": {testPassword}})
	if st != http.StatusSeeOther {
		t.Fatalf("local sign-in: %d", st)
	}
	_, page, _ = b.do("GET", e.srv.URL+"/console/totp", nil)
	m = csrfRe.FindStringSubmatch(page)
	if st, _, _ = b.do("POST", e.srv.URL+"/console/totp", url.Values{"csrf": {m[1]}, "code": {e.code("tanaka")}}); st != http.StatusSeeOther {
		t.Fatalf("totp: %d", st)
	}
	if st, _, _ = b.do("GET", e.srv.URL+"/console/queue", nil); st != 200 {
		t.Fatalf("queue after local sign-in: %d", st)
	}
}

func TestSSORunRetriesUntilProviderAnswers(t *testing.T) {
	o := startOP(t, "http://127.0.0.1:1/console/sso/callback")
	// The provider is unreachable until gate closes: Run keeps trying.
	gate := make(chan struct{})
	sso, err := NewSSO(SSOConfig{Issuer: o.issuer, ClientID: opClientID, ClientSecret: opClientSecret,
		RedirectURL: "http://127.0.0.1:1/console/sso/callback", Roles: map[string][]string{RoleViewer: {"auditors"}},
		DiscoveryTimeout: time.Second, HTTPClient: &http.Client{Transport: gateTransport{gate: gate}, Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { sso.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	if sso.Ready() {
		t.Fatal("ready while the provider is down")
	}
	close(gate)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Run did not retry discovery")
	}
	if !sso.Ready() {
		t.Fatal("not ready after the provider came back")
	}
}

// gateTransport fails every request until gate is closed.
type gateTransport struct{ gate chan struct{} }

func (g gateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-g.gate:
		return http.DefaultTransport.RoundTrip(r)
	default:
		return nil, io.ErrUnexpectedEOF
	}
}

func TestLocalLoginDisabled(t *testing.T) {
	e, _ := ssoEnv(t, func(c *Config, _ *SSOConfig) { c.DisableLocalLogin = true })
	if _, err := New(Config{Hold: e.hold, DB: e.sp.DB(), BaseURL: e.srv.URL + "/", DisableLocalLogin: true}); err == nil {
		t.Fatal("console without SSO accepted local sign-in turned off")
	}
	e.addUser("tanaka", RoleAdmin)
	b := newBrowser(t)
	_, page, _ := b.do("GET", e.srv.URL+"/console/login", nil)
	if strings.Contains(page, `id="login-form"`) || !strings.Contains(page, `id="sso"`) {
		t.Fatalf("sign-in page with local sign-in off:\n%s", page)
	}
	m := csrfRe.FindStringSubmatch(page)
	st, page, _ := b.do("POST", e.srv.URL+"/console/login", url.Values{"csrf": {m[1]}, "user": {"tanaka"}, "password": {testPassword}})
	if st != http.StatusForbidden || !strings.Contains(page, "Local sign-in is turned off") {
		t.Fatalf("local sign-in while off: %d", st)
	}
}

func TestRoleOfAndClaims(t *testing.T) {
	s := &SSOMapping{Roles: map[string][]string{RoleAdmin: {"a"}, RoleReviewer: {"r", "x"}, RoleViewer: {"v", "x"}}}
	for groups, want := range map[string]string{"v": RoleViewer, "v,r": RoleReviewer, "r,a,v": RoleAdmin, "x": RoleReviewer, "z": "", "": ""} {
		if got := s.roleOf(strings.Split(groups, ",")); got != want {
			t.Errorf("roleOf(%s) = %q, want %q", groups, got, want)
		}
	}
	claims := map[string]any{"realm_access": map[string]any{"roles": []any{"r", 3}}, "https://x.example/groups": "a"}
	if got := claimStrings(claimAt(claims, "realm_access.roles")); len(got) != 1 || got[0] != "r" {
		t.Errorf("dotted path: %v", got)
	}
	if got := claimStrings(claimAt(claims, "https://x.example/groups")); len(got) != 1 || got[0] != "a" {
		t.Errorf("dotted claim name: %v", got)
	}
	if claimAt(claims, "missing.path") != nil || !claimTrue("true") || claimTrue("yes") || claimTrue(nil) {
		t.Error("claim helpers")
	}
}
