package console

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sendguard/sendguard/hold"
)

// Console single sign-on with OpenID Connect: the authorisation code flow
// with PKCE (S256), state and nonce.
//
//   - POST sso/start (from the sign-in form, CSRF-checked) stores a pending
//     sign-in (state, nonce, PKCE verifier, where to go next) under the hash
//     of a fresh random ID, sets that ID in a pre-auth cookie and redirects
//     to the provider. The console's own cookie is SameSite=Strict and does
//     not come back on the provider's cross-site redirect, so the pre-auth
//     cookie is SameSite=Lax, HttpOnly, limited to the sso/ path and lives
//     ssoTimeout.
//   - GET sso/callback takes the pending sign-in out of the DB in one
//     transaction (so a state is good once), compares state, redeems the
//     code with the verifier, and verifies the ID token: signature against
//     the provider's keys, issuer, audience (and azp), expiry, nonce. The
//     role is the highest one any of the user's groups maps to; a user with
//     none is refused. Then a console session starts as after a password
//     sign-in: new ID, CSRF token, timeouts, audit event.
//
// The role of an SSO session is the one the groups gave at sign-in; a
// change at the provider applies at the next sign-in (sessions end after
// 30 minutes idle, 12 hours at most).
//
// Discovery runs in the background (SSO.Run): while the provider cannot be
// reached the sign-in page says single sign-on is unavailable and offers
// local sign-in, and nothing else in sendguard waits for it.

const (
	viaOIDC       = "oidc"
	stageSSO      = "sso" // a pending SSO sign-in; never a session
	ssoCookieName = "sendguard_console_sso"
	ssoTimeout    = 10 * time.Minute
	// ssoExchangeTimeout bounds the code redemption at the token endpoint.
	ssoExchangeTimeout = 15 * time.Second
)

// SSOConfig configures single sign-on (config key console.oidc).
type SSOConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// Scopes are requested besides openid.
	Scopes []string
	// UsernameClaim names the console user; "email" needs email_verified.
	UsernameClaim string
	// GroupsClaim is the claim (a dotted path into objects) listing the
	// user's groups or roles.
	GroupsClaim string
	// Roles maps admin, reviewer and viewer to groups.
	Roles map[string][]string
	// HTTPClient talks to the provider; nil means one with a 10 s timeout.
	HTTPClient *http.Client
	// DiscoveryTimeout bounds one discovery attempt; zero means 10 s.
	DiscoveryTimeout time.Duration
	// Now checks token lifetimes; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// SSO is the console's OpenID Connect relying party. It is safe for
// concurrent use; it is usable once Run has discovered the provider.
type SSO struct {
	cfg    SSOConfig
	client *http.Client
	log    *slog.Logger
	prov   atomic.Pointer[ssoProvider]
	// mapping is the claims and role mapping in force; a reload swaps it.
	mapping atomic.Pointer[SSOMapping]
}

type ssoProvider struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// authOrigin is the authorisation endpoint's origin, allowed as a
	// form-action on the sign-in page (browsers check form-action on the
	// redirect that follows a form post).
	authOrigin string
}

// NewSSO checks cfg; discovery happens in Run.
func NewSSO(cfg SSOConfig) (*SSO, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "" {
		return nil, errors.New("console sso: issuer, client id, client secret and redirect URL are required")
	}
	m, err := checkMapping(SSOMapping{UsernameClaim: cfg.UsernameClaim, GroupsClaim: cfg.GroupsClaim, Roles: cfg.Roles})
	if err != nil {
		return nil, err
	}
	if cfg.DiscoveryTimeout <= 0 {
		cfg.DiscoveryTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &SSO{cfg: cfg, client: cfg.HTTPClient, log: cfg.Logger}
	s.mapping.Store(m)
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "console-sso", "issuer", cfg.Issuer)
	return s, nil
}

// Ready reports whether the provider has been discovered.
func (s *SSO) Ready() bool { return s != nil && s.prov.Load() != nil }

// Discover makes one bounded attempt to read the provider's metadata.
func (s *SSO) Discover(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DiscoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client), s.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("discover provider: %w", err)
	}
	ep := p.Endpoint()
	au, err := url.Parse(ep.AuthURL)
	if err != nil || (au.Scheme != "https" && au.Scheme != "http") || au.Host == "" {
		return fmt.Errorf("discover provider: bad authorization endpoint %q", ep.AuthURL)
	}
	// The ID token comes straight from the token endpoint, but its
	// signature is still checked: the keys come from the provider's JWKS.
	v := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now})
	s.prov.Store(&ssoProvider{
		oauth: oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: ep,
			RedirectURL: s.cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID}, s.cfg.Scopes...)},
		verifier:   v,
		authOrigin: au.Scheme + "://" + au.Host,
	})
	return nil
}

// Run discovers the provider, retrying with a capped, jittered back-off
// until it succeeds or ctx ends. It never blocks anything but itself.
func (s *SSO) Run(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in provider discovery", "panic", p)
		}
	}()
	wait := 2 * time.Second
	for {
		err := s.Discover(ctx)
		if err == nil {
			s.log.Info("single sign-on ready")
			return
		}
		s.log.Warn("single sign-on unavailable; retrying", "err", err, "retry_in", wait)
		t := time.NewTimer(wait + rand.N(wait/4))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Minute)
	}
}

// ssoPending is a started SSO sign-in, stored in the sessions bucket
// under ssoKey of the pre-auth cookie; its stage and times let the
// session sweep delete it when it is stale.
type ssoPending struct {
	Stage    string    `json:"stage"`
	Created  time.Time `json:"created"`
	Seen     time.Time `json:"seen"`
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Next     string    `json:"next,omitempty"`
	Lang     string    `json:"lang,omitempty"`
}

func ssoKey(id string) [32]byte {
	return sha256.Sum256([]byte("sendguard/console/sso\x00" + id))
}

func (h *Handler) ssoCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: ssoCookieName, Value: value, Path: h.prefix + "sso/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
}

// ssoStart is the sign-in form's "Sign in with SSO".
func (h *Handler) ssoStart(w http.ResponseWriter, r *http.Request) {
	s := h.signInSession(w, r, stageForm)
	if s == nil {
		return
	}
	p := h.sso.provider()
	if p == nil {
		h.showLogin(w, r, s, http.StatusServiceUnavailable, "", "sso.unavailable")
		return
	}
	id, err1 := randomToken()
	state, err2 := randomToken()
	nonce, err3 := randomToken()
	if err := errors.Join(err1, err2, err3); err != nil {
		h.log.Error("start sso", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	now := h.now().UTC()
	pend := ssoPending{Stage: stageSSO, Created: now, Seen: now, State: state, Nonce: nonce,
		Verifier: oauth2.GenerateVerifier(), Next: s.Next, Lang: s.Lang}
	v, err := json.Marshal(pend)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	key := ssoKey(id)
	ctx, cancel := storeCtx()
	defer cancel()
	// The form session has served its purpose: one start per form.
	if err := h.acc.PutSession(ctx, key, &s.key, "", now.Add(ssoTimeout), v); err != nil {
		h.log.Error("store sso state", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, h.cookie("", -1))
	http.SetCookie(w, h.ssoCookie(id, int(ssoTimeout/time.Second)))
	http.Redirect(w, r, p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(pend.Verifier), oidc.Nonce(nonce)), http.StatusSeeOther)
}

func (s *SSO) provider() *ssoProvider {
	if s == nil {
		return nil
	}
	return s.prov.Load()
}

// takePending removes and returns the pending sign-in of the request's
// pre-auth cookie: a state is good for one callback only.
func (h *Handler) takePending(r *http.Request) *ssoPending {
	c, err := r.Cookie(ssoCookieName)
	if err != nil || len(c.Value) != 43 {
		return nil
	}
	key := ssoKey(c.Value)
	var p *ssoPending
	ctx, cancel := storeCtx()
	defer cancel()
	v, err := h.acc.TakeSession(ctx, key)
	if v != nil {
		var got ssoPending
		if json.Unmarshal(v, &got) == nil && got.Stage == stageSSO {
			p = &got
		}
	}
	if err != nil {
		h.log.Error("take sso state", "err", err)
		return nil
	}
	if p != nil {
		if age := h.now().UTC().Sub(p.Created); age >= ssoTimeout || age < -time.Minute {
			return nil
		}
	}
	return p
}

// ssoIdentity is what a verified ID token says about the user.
type ssoIdentity struct {
	Subject, Issuer, Name, Role string
	Groups                      []string
}

// errNoRole is a verified user none of whose groups maps to a role.
var errNoRole = errors.New("no group mapped to a console role")

// ssoCallback is where the provider sends the browser back.
func (h *Handler) ssoCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, h.ssoCookie("", -1))
	ip, now := h.clientIP(r), h.now()
	if h.signInDelayed(w, ip, "", now) {
		h.fail(w, r, nil, http.StatusTooManyRequests, "login.blocked")
		return
	}
	pend := h.takePending(r)
	refuse := func(status int, key, reason string, id *ssoIdentity) {
		h.ipFailed(ip, now)
		name := ""
		if id != nil {
			name = id.Name
			reason += ssoWho(id)
		}
		h.audit(r, hold.Event{Actor: h.actor(r, name, ""), Action: auditSignInFailed, Reason: "oidc: " + printable(reason, 500)})
		h.ssoRefused(w, r, pend, status, key)
	}
	q := r.URL.Query()
	if pend == nil {
		refuse(http.StatusBadRequest, "sso.expired", "no pending sign-in (expired, replayed or another browser)", nil)
		return
	}
	if !constantEqual(q.Get("state"), pend.State) {
		refuse(http.StatusBadRequest, "sso.expired", "state mismatch", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusForbidden, "sso.failed", "provider error "+printable(e, 64), nil)
		return
	}
	p := h.sso.provider()
	if p == nil || q.Get("code") == "" {
		refuse(http.StatusBadRequest, "sso.failed", "no code or provider", nil)
		return
	}
	id, err := h.sso.redeem(r.Context(), p, q.Get("code"), pend)
	if err != nil {
		if errors.Is(err, errNoRole) {
			refuse(http.StatusForbidden, "sso.no_role", "no mapped group", id)
			return
		}
		// The error names what failed (expiry, issuer, signature, nonce),
		// never a token or the code.
		h.log.Warn("sso sign-in refused", "err", err)
		refuse(http.StatusForbidden, "sso.failed", err.Error(), id)
		return
	}
	ns := &session{Stage: stageFull, User: id.Name, Role: id.Role, Via: viaOIDC, Lang: pend.Lang}
	if err := h.startSession(w, h.loadSession(r), ns); err != nil {
		h.log.Error("start sso session", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.audit(r, hold.Event{Actor: h.actor(r, id.Name, id.Role), Action: auditSignIn, Reason: "sign-in via OIDC" + ssoWho(id)})
	http.Redirect(w, r, h.orDefault(h.safeNext(pend.Next)), http.StatusSeeOther)
}

func ssoWho(id *ssoIdentity) string {
	return fmt.Sprintf(" (subject %q, issuer %q)", printable(id.Subject, 128), printable(id.Issuer, 200))
}

// ssoRefused shows the refusal page, which leads back to sign-in.
func (h *Handler) ssoRefused(w http.ResponseWriter, r *http.Request, pend *ssoPending, status int, key string) {
	rc := (*reqCtx)(nil)
	if pend != nil && pend.Lang != "" {
		rc = &reqCtx{sess: &session{Lang: pend.Lang}}
	}
	d := h.newPage(r, rc, "sso.refused_title", "")
	d.Error = key
	d.D = h.prefix + "login"
	h.render(w, status, "sso", d)
}

// redeem exchanges the code (with the PKCE verifier) and checks the ID
// token and the user's groups. A non-nil identity comes with errNoRole.
func (s *SSO) redeem(ctx context.Context, p *ssoProvider, code string, pend *ssoPending) (*ssoIdentity, error) {
	ctx, cancel := context.WithTimeout(ctx, ssoExchangeTimeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, s.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pend.Verifier))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			return nil, fmt.Errorf("token endpoint refused the code: %s", printable(re.ErrorCode, 64))
		}
		return nil, errors.New("token endpoint unreachable")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("token response without id_token")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("id token: %w", err)
	}
	if !constantEqual(idt.Nonce, pend.Nonce) {
		return nil, errors.New("id token: nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	// OIDC Core 3.1.3.7: with several audiences, azp must be this client.
	if len(idt.Audience) > 1 {
		if azp, _ := claims["azp"].(string); azp != s.cfg.ClientID {
			return nil, errors.New("id token: several audiences without this client as azp")
		}
	}
	m := s.mapping.Load()
	id := &ssoIdentity{Subject: idt.Subject, Issuer: idt.Issuer}
	name, _ := claimAt(claims, m.UsernameClaim).(string)
	name = strings.TrimSpace(name)
	if name == "" || printable(name, 64) != name {
		return nil, fmt.Errorf("id token: claim %s missing or not a plain name", m.UsernameClaim)
	}
	if m.UsernameClaim == "email" && !claimTrue(claims["email_verified"]) {
		return nil, errors.New("id token: email not verified")
	}
	id.Name = name
	id.Groups = claimStrings(claimAt(claims, m.GroupsClaim))
	id.Role = m.roleOf(id.Groups)
	if id.Role == "" {
		return id, errNoRole
	}
	return id, nil
}

// roleOf is the highest role any of groups maps to, "" for none.
func (m *SSOMapping) roleOf(groups []string) string {
	best := ""
	for role, mapped := range m.Roles {
		if roleRank(role) <= roleRank(best) {
			continue
		}
		for _, g := range groups {
			if slices.Contains(mapped, g) {
				best = role
				break
			}
		}
	}
	return best
}

// claimAt follows a dotted path through nested objects; a claim whose
// own name contains dots (URIs) is found whole first.
func claimAt(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimStrings accepts a list of strings or one string.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimTrue accepts true, or "true" as some providers send it.
func claimTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// saveSession rewrites a session under its key (an SSO user's language).
func (h *Handler) saveSession(s *session) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	return h.acc.PutSession(ctx, s.key, nil, s.User, s.expiry(), v)
}

// loginCSP lets the sign-in form's SSO button redirect to the provider.
func (h *Handler) loginCSP(w http.ResponseWriter) {
	if p := h.sso.provider(); p != nil {
		w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+p.authOrigin, 1))
	}
}
