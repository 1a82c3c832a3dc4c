package console

import (
	"errors"
	"github.com/sendguard/sendguard/internal/webbase"
	"net/http"
	"strings"

	"github.com/sendguard/sendguard/hold"
)

type loginView struct {
	Name     string
	LangJA   string
	LangEN   string
	Disabled bool
	// Local offers password sign-in; SSO the provider's button, or
	// SSODown a notice while the provider cannot be reached.
	Local, SSO, SSODown bool
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	old := h.loadSession(r)
	if rc := h.authenticate(w, r); rc != nil {
		http.Redirect(w, r, h.orDefault(h.safeNext(r.URL.Query().Get("next"))), http.StatusSeeOther)
		return
	}
	ip, now := h.clientIP(r), h.now()
	if h.formLim.Blocked(ip, now) {
		h.fail(w, r, nil, http.StatusTooManyRequests, "login.blocked")
		return
	}
	h.formLim.Fail(ip, now)
	s := &session{Stage: stageForm, Next: h.safeNext(r.URL.Query().Get("next"))}
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		s.Lang = l
	} else if old != nil {
		s.Lang = old.Lang
	}
	if err := h.startSession(w, old, s); err != nil {
		h.log.Error("start sign-in", "err", err)
		// The page still says why (the shared store's outage banner);
		// without a stored session its form cannot be posted.
		h.showLogin(w, r, s, http.StatusServiceUnavailable, "", "error.internal")
		return
	}
	h.showLogin(w, r, s, http.StatusOK, "", "")
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, s *session, status int, name, errKey string) {
	d := h.newPage(r, &reqCtx{sess: s}, "login.title", "")
	d.Error = errKey
	d.D = loginView{Name: name, LangJA: h.prefix + "login?lang=ja", LangEN: h.prefix + "login?lang=en",
		Local: !h.noLocal, SSO: h.sso.Ready(), SSODown: h.sso != nil && !h.sso.Ready()}
	h.loginCSP(w)
	h.render(w, status, "login", d)
}

func (h *Handler) orDefault(next string) string {
	if next == "" {
		return h.prefix
	}
	return next
}

// signInSession returns the request's sign-in session at stage if its
// form token matches; otherwise it restarts sign-in and returns nil.
func (h *Handler) signInSession(w http.ResponseWriter, r *http.Request, stage string) *session {
	if !h.parseForm(w, r) {
		return nil
	}
	s := h.loadSession(r)
	if s == nil || s.Stage != stage || webbase.CrossSite(r, h.origin) || !constantEqual(r.PostFormValue("csrf"), s.CSRF) {
		ns := &session{Stage: stageForm}
		if err := h.startSession(w, s, ns); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return nil
		}
		h.showLogin(w, r, ns, http.StatusForbidden, "", "login.expired")
		return nil
	}
	return s
}

func (h *Handler) loginPost(w http.ResponseWriter, r *http.Request) {
	s := h.signInSession(w, r, stageForm)
	if s == nil {
		return
	}
	if h.noLocal {
		h.showLogin(w, r, s, http.StatusForbidden, "", "login.local_disabled")
		return
	}
	// Lower-cased like account names, so case variants share one budget.
	name := strings.ToLower(strings.TrimSpace(printable(r.PostFormValue("user"), 64)))
	ip, now := h.clientIP(r), h.now()
	if h.signInDelayed(w, ip, name, now) {
		h.audit(r, hold.Event{Actor: h.actor(r, name, ""), Action: auditSignInFailed, Reason: "rate limited"})
		h.showLogin(w, r, s, http.StatusTooManyRequests, name, "login.blocked")
		return
	}
	u, err := h.users.get(name)
	hash := h.users.dummy()
	if err == nil && !u.Disabled {
		hash = u.PasswordHash
	}
	ok, herr := checkPassword(r.PostFormValue("password"), hash)
	if herr != nil {
		h.log.Error("check password", "err", herr)
	}
	if err != nil || u.Disabled || !ok {
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			h.log.Error("read user", "err", err)
		}
		h.signInFailed(ip, name, now)
		h.audit(r, hold.Event{Actor: h.actor(r, name, ""), Action: auditSignInFailed, Reason: "password"})
		h.showLogin(w, r, s, http.StatusUnauthorized, name, "login.failed")
		return
	}
	if h.noTOTP {
		h.finishSignIn(w, r, s, u, "password")
		return
	}
	ns := &session{Stage: stagePassword, User: u.Name, Next: s.Next, Lang: s.Lang}
	if err := h.startSession(w, s, ns); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, h.prefix+"totp", http.StatusSeeOther)
}

func (h *Handler) totpForm(w http.ResponseWriter, r *http.Request) {
	s := h.loadSession(r)
	if s == nil || s.Stage != stagePassword {
		http.Redirect(w, r, h.prefix+"login", http.StatusSeeOther)
		return
	}
	d := h.newPage(r, &reqCtx{sess: s}, "totp.title", "")
	h.render(w, http.StatusOK, "totp", d)
}

func (h *Handler) totpPost(w http.ResponseWriter, r *http.Request) {
	s := h.signInSession(w, r, stagePassword)
	if s == nil {
		return
	}
	if h.noLocal {
		h.deleteSession(s)
		http.Redirect(w, r, h.prefix+"login", http.StatusSeeOther)
		return
	}
	ip, now := h.clientIP(r), h.now()
	u, err := h.users.get(s.User)
	if err != nil || u.Disabled {
		h.deleteSession(s)
		http.Redirect(w, r, h.prefix+"login", http.StatusSeeOther)
		return
	}
	fail := func(status int, key, reason string) {
		h.audit(r, hold.Event{Actor: h.actor(r, u.Name, ""), Action: auditSignInFailed, Reason: reason})
		d := h.newPage(r, &reqCtx{sess: s}, "totp.title", "")
		d.Error = key
		h.render(w, status, "totp", d)
	}
	if h.signInDelayed(w, ip, u.Name, now) {
		fail(http.StatusTooManyRequests, "login.blocked", "rate limited")
		return
	}
	ok, err := h.users.checkTOTP(u.Name, r.PostFormValue("code"), now)
	if err != nil {
		h.log.Error("check totp", "err", err)
	}
	if !ok {
		h.signInFailed(ip, u.Name, now)
		fail(http.StatusUnauthorized, "totp.failed", "totp")
		return
	}
	h.finishSignIn(w, r, s, u, "password+totp")
}

// finishSignIn replaces the sign-in session with a signed-in one under a
// new ID and records the sign-in.
func (h *Handler) finishSignIn(w http.ResponseWriter, r *http.Request, s *session, u *user, how string) {
	ns := &session{Stage: stageFull, User: u.Name, Via: "password"}
	if err := h.startSession(w, s, ns); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.signInSucceeded(h.clientIP(r), u.Name)
	h.audit(r, hold.Event{Actor: h.actor(r, u.Name, u.Role), Action: auditSignIn, Reason: how})
	if u.Lang == "" && s.Lang != "" {
		_ = h.users.SetLanguage(u.Name, s.Lang)
	}
	http.Redirect(w, r, h.orDefault(h.safeNext(s.Next)), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.deleteSession(rc.sess)
	http.SetCookie(w, h.cookie("", -1))
	h.audit(r, hold.Event{Actor: rc.actor, Action: auditSignOut})
	http.Redirect(w, r, h.prefix+"login", http.StatusSeeOther)
}

func (h *Handler) setLang(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if rc.sess.Via == viaOIDC {
		// No local account: the session keeps the choice.
		if l := r.PostFormValue("lang"); l == "ja" || l == "en" {
			rc.sess.Lang = l
			if h.saveSession(rc.sess) == nil {
				http.Redirect(w, r, h.orDefault(h.safeNext(r.PostFormValue("next"))), http.StatusSeeOther)
				return
			}
		}
		h.fail(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := h.users.SetLanguage(rc.user.Name, r.PostFormValue("lang")); err != nil {
		h.fail(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	http.Redirect(w, r, h.orDefault(h.safeNext(r.PostFormValue("next"))), http.StatusSeeOther)
}
