package console

import (
	"errors"
	"github.com/sendguard/sendguard/internal/webbase"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/templates"
)

// Audit actions written by the console.
const (
	auditSignIn       = "signin"
	auditSignInFailed = "signin_failed"
	auditSignOut      = "signout"
	auditDownload     = "download"
	auditExport       = "audit_export"
	auditVerify       = "audit_verify"
)

// reqCtx is the signed-in user of a request.
type reqCtx struct {
	sess  *session
	user  *user
	actor hold.Actor
}

// handlerFunc is a console page or action with its signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// authenticate returns the signed-in user of r, signing in through the
// trusted proxy's header when configured; nil means nobody.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) *reqCtx {
	s := h.loadSession(r)
	if name := h.proxyUser(r); name != "" {
		if s == nil || s.Stage != stageFull || s.User != name {
			s = h.proxySignIn(w, r, s, name)
		}
	}
	if s == nil || s.Stage != stageFull {
		return nil
	}
	if s.Via == viaOIDC {
		// The provider vouched for name and groups at sign-in; there is
		// no local account behind an SSO session.
		if h.sso == nil || roleRank(s.Role) == 0 {
			h.deleteSession(s)
			return nil
		}
		u := &user{Name: s.User, Role: s.Role, Lang: s.Lang}
		return &reqCtx{sess: s, user: u, actor: h.actor(r, u.Name, u.Role)}
	}
	u, err := h.users.get(s.User)
	if err != nil || u.Disabled {
		h.deleteSession(s)
		return nil
	}
	return &reqCtx{sess: s, user: u, actor: h.actor(r, u.Name, u.Role)}
}

// proxyUser is the user name a trusted proxy vouches for, "" if none.
func (h *Handler) proxyUser(r *http.Request) string {
	if h.proxyH == "" || !h.trustedPeer(r) {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(r.Header.Get(h.proxyH)))
}

func (h *Handler) proxySignIn(w http.ResponseWriter, r *http.Request, old *session, name string) *session {
	u, err := h.users.get(name)
	if err != nil || u.Disabled {
		h.audit(r, hold.Event{Actor: h.actor(r, name, ""), Action: auditSignInFailed, Reason: "proxy: unknown user"})
		return nil
	}
	s := &session{Stage: stageFull, User: u.Name, Via: "proxy"}
	if err := h.startSession(w, old, s); err != nil {
		h.log.Error("proxy sign-in", "err", err)
		return nil
	}
	h.audit(r, hold.Event{Actor: h.actor(r, u.Name, u.Role), Action: auditSignIn, Reason: "proxy"})
	return s
}

// actor describes the person behind r for the audit log.
func (h *Handler) actor(r *http.Request, name, role string) hold.Actor {
	return hold.Actor{Name: printable(name, 64), Role: role, IP: h.clientIP(r), UserAgent: printable(r.UserAgent(), 200)}
}

// printable drops control characters and truncates, so an attacker's
// input cannot forge lines in logs or exports.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return s
}

// audit appends an event; a failure is logged, not shown (the action it
// describes has already happened or been refused).
func (h *Handler) audit(r *http.Request, e hold.Event) {
	if _, err := h.auditLog.AppendEvent(r.Context(), e); err != nil {
		h.log.Error("append audit event", "action", e.Action, "err", err)
	}
}

// page wraps a GET page: it needs a signed-in user of at least minRole.
func (h *Handler) page(minRole string, fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := h.authenticate(w, r)
		if rc == nil {
			http.Redirect(w, r, h.prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if roleRank(rc.user.Role) < roleRank(minRole) {
			h.fail(w, r, rc, http.StatusForbidden, "error.forbidden")
			return
		}
		fn(w, r, rc)
	}
}

// action wraps a POST: same-site, a signed-in user of at least minRole
// and the session's CSRF token, or 403 and nothing happens. The body is
// read only once the sender is known to be allowed, so nobody else can
// make the server parse an upload.
func (h *Handler) action(minRole string, fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if webbase.CrossSite(r, h.origin) {
			h.fail(w, r, nil, http.StatusForbidden, "error.csrf")
			return
		}
		rc := h.authenticate(w, r)
		if rc == nil {
			h.fail(w, r, nil, http.StatusForbidden, "error.signed_out")
			return
		}
		if roleRank(rc.user.Role) < roleRank(minRole) {
			h.fail(w, r, rc, http.StatusForbidden, "error.forbidden")
			return
		}
		if !h.parseForm(w, r) {
			return
		}
		if !constantEqual(r.PostFormValue("csrf"), rc.sess.CSRF) {
			h.fail(w, r, rc, http.StatusForbidden, "error.csrf")
			return
		}
		fn(w, r, rc)
	}
}

// parseForm reads a bounded form body; uploads get the upload bound.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, h.maxUp+maxFormBytes)
		err = r.ParseMultipartForm(8 << 20)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		err = r.ParseForm()
	}
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		h.fail(w, r, nil, status, "error.bad_request")
		return false
	}
	return true
}

// safeNext returns next if it is a path inside the console, else "".
// Anything with a scheme, a host, "//" or a backslash is refused, so a
// sign-in link cannot redirect off-site.
func (h *Handler) safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, h.prefix) ||
		strings.Contains(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

// lang picks the language: the account's choice, ?lang=, the sign-in
// session's, the browser's, the configured default (templates.Pick).
func (h *Handler) lang(r *http.Request, rc *reqCtx) string {
	if rc != nil && rc.user != nil && rc.user.Lang != "" {
		return rc.user.Lang
	}
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		return l
	}
	if rc != nil && rc.sess != nil && rc.sess.Lang != "" {
		return rc.sess.Lang
	}
	return templates.Pick("", r.Header.Get("Accept-Language"), h.defLang)
}
