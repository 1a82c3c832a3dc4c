package link

import (
	"errors"
	"fmt"
	"github.com/sendguard/sendguard/internal/webbase"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sendguard/sendguard/crypto/token"
)

// resolve checks the client's rate limit, parses a link token and finds
// its package for the wanted role. On failure it has written the page and
// returns ok false.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request, text string, want Role) (token.Token, *Access, bool) {
	ip := h.clientIP(r)
	if h.lim.Blocked(ip, h.now()) {
		h.result(w, r, "", http.StatusTooManyRequests, "rate_limited")
		return token.Token{}, nil, false
	}
	t, err := token.Parse(text)
	if err != nil {
		h.lim.Fail(ip, h.now())
		h.result(w, r, "", http.StatusNotFound, "invalid")
		return token.Token{}, nil, false
	}
	a, err := h.store.Resolve(r.Context(), t.Hash())
	switch {
	case errors.Is(err, ErrNotFound):
		h.lim.Fail(ip, h.now())
		h.result(w, r, "", http.StatusNotFound, "invalid")
		return token.Token{}, nil, false
	case err != nil:
		h.log.Error("resolve link", "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
		return token.Token{}, nil, false
	case a.Role != want:
		h.result(w, r, "", http.StatusForbidden, "wrong_role")
		return token.Token{}, nil, false
	}
	return t, a, true
}

// form checks a POST's origin and body and parses the form; on failure it
// has written the page.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) bool {
	if webbase.CrossSite(r, h.origin) {
		h.log.Warn("cross-site post refused", "ip", h.clientIP(r), "origin", r.Header.Get("Origin"))
		h.result(w, r, "", http.StatusForbidden, "forbidden")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.result(w, r, "", http.StatusBadRequest, "forbidden")
		return false
	}
	return true
}

// csrfOK checks the form's CSRF token against the link's; on failure it
// has written the page.
func (h *Handler) csrfOK(w http.ResponseWriter, r *http.Request, t token.Token) bool {
	if h.csrfValid(t, r.PostForm.Get("csrf")) {
		return true
	}
	h.log.Warn("post without valid csrf token refused", "ip", h.clientIP(r))
	h.result(w, r, "", http.StatusForbidden, "forbidden")
	return false
}

// gone shows the clear page of a package that serves nothing any more and
// reports whether it did.
func (h *Handler) gone(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case errors.Is(err, ErrRevoked):
		h.result(w, r, "", http.StatusGone, "revoked")
	case errors.Is(err, ErrExpired):
		h.result(w, r, "", http.StatusGone, "expired")
	case errors.Is(err, ErrExhausted):
		h.result(w, r, "", http.StatusGone, "exhausted")
	default:
		return false
	}
	return true
}

// downloadPage shows a recipient's page for an active package.
func (h *Handler) downloadPage(w http.ResponseWriter, r *http.Request, status int, t token.Token, a *Access, adjust func(*pageData)) {
	self := h.linkPath(t.Text())
	d := h.newPage(r, h.lang(r), self)
	d.Title = d.T("dl.title")
	d.CSRF = h.csrfToken(t)
	d.Ready = h.sessionValid(r, t, h.now())
	fileLinks := ""
	if d.Ready {
		fileLinks = self
	}
	h.describe(d, a.Info, fileLinks)
	adjust(d)
	h.render(w, status, "download", d)
}

// packagePage is GET d/{token}: it shows the package and changes nothing,
// so a mail scanner opening the link does no harm.
func (h *Handler) packagePage(w http.ResponseWriter, r *http.Request, text string) {
	t, a, ok := h.resolve(w, r, text, RoleRecipient)
	if !ok {
		return
	}
	if h.gone(w, r, liveErr(a.Info.Status(h.now()))) {
		return
	}
	h.downloadPage(w, r, http.StatusOK, t, a, func(*pageData) {})
}

// sendCode is POST d/{token}: it mails a new one-time code to the link's
// recipient.
func (h *Handler) sendCode(w http.ResponseWriter, r *http.Request, text string) {
	if !h.form(w, r) {
		return
	}
	t, a, ok := h.resolve(w, r, text, RoleRecipient)
	if !ok || !h.csrfOK(w, r, t) {
		return
	}
	if r.PostForm.Get("action") != "send_code" {
		h.result(w, r, "", http.StatusBadRequest, "forbidden")
		return
	}
	ip := h.clientIP(r)
	code, a2, err := h.store.IssueCode(r.Context(), t.Hash(), Client{IP: ip, UserAgent: truncate(r.UserAgent(), 256)})
	if a2 != nil {
		a = a2
	}
	switch {
	case h.gone(w, r, err):
		return
	case errors.Is(err, ErrCodeLimit):
		h.downloadPage(w, r, http.StatusTooManyRequests, t, a, func(d *pageData) { d.Error = d.T("err.code_limit") })
		return
	case err != nil:
		h.log.Error("issue code", "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
		return
	}
	lang := h.lang(r)
	msg, err := CodeMail{From: h.from, To: a.Recipient, Lang: lang, Code: code, Sender: a.Info.Sender,
		Subject: a.Info.Subject, Expires: h.now().Add(h.store.CodeTTL()), Location: h.loc, Date: h.now()}.Bytes()
	if err == nil {
		err = h.mailer(r.Context(), a.Recipient, msg)
	}
	if err != nil {
		h.log.Error("send code mail", "package", a.Info.ID, "err", err)
		h.downloadPage(w, r, http.StatusServiceUnavailable, t, a, func(d *pageData) { d.Error = d.T("err.send_failed") })
		return
	}
	h.log.Info("code mailed", "package", a.Info.ID, "ip", ip)
	h.downloadPage(w, r, http.StatusOK, t, a, func(d *pageData) {
		d.CodeSent, d.SentTo = true, maskAddress(a.Recipient)
	})
}

// verify is POST d/{token}/verify: a right code starts a download session
// bound to this link.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, text string) {
	if !h.form(w, r) {
		return
	}
	t, a, ok := h.resolve(w, r, text, RoleRecipient)
	if !ok || !h.csrfOK(w, r, t) {
		return
	}
	ip := h.clientIP(r)
	a2, err := h.store.VerifyCode(r.Context(), t.Hash(), r.PostForm.Get("code"), Client{IP: ip, UserAgent: truncate(r.UserAgent(), 256)})
	if a2 != nil {
		a = a2
	}
	if err == nil {
		http.SetCookie(w, h.newSession(t, h.now()))
		h.log.Info("link verified", "package", a.Info.ID, "ip", ip)
		http.Redirect(w, r, h.linkPath(t.Text())+"?lang="+h.lang(r), http.StatusSeeOther)
		return
	}
	if h.gone(w, r, err) {
		return
	}
	var wrong *WrongCodeError
	var msg string
	codeForm := false
	switch {
	case errors.Is(err, ErrCodeMalformed):
		msg, codeForm = "err.code_malformed", true
	case errors.As(err, &wrong):
		h.lim.Fail(ip, h.now())
		msg, codeForm = "err.code_wrong", true
	case errors.Is(err, ErrCodeLocked):
		h.lim.Fail(ip, h.now())
		msg = "err.code_locked"
	case errors.Is(err, ErrCodeExpired):
		msg = "err.code_expired"
	case errors.Is(err, ErrCodeUsed):
		msg = "err.code_used"
	case errors.Is(err, ErrNoCode):
		msg = "err.no_code"
	default:
		h.log.Error("verify code", "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
		return
	}
	h.downloadPage(w, r, http.StatusUnprocessableEntity, t, a, func(d *pageData) {
		if wrong != nil {
			d.Error = d.T(msg, wrong.Left)
		} else {
			d.Error = d.T(msg)
		}
		d.CodeSent = codeForm
	})
}

// download is GET d/{token}/file/{n}: with a session for this link it
// counts the download and streams the decrypted file.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, text, num string) {
	t, a, ok := h.resolve(w, r, text, RoleRecipient)
	if !ok {
		return
	}
	if h.gone(w, r, liveErr(a.Info.Status(h.now()))) {
		return
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n >= len(a.Info.Files) || strconv.Itoa(n) != num {
		h.result(w, r, "", http.StatusNotFound, "not_found")
		return
	}
	if !h.sessionValid(r, t, h.now()) {
		h.downloadPage(w, r, http.StatusForbidden, t, a, func(d *pageData) { d.Error = d.T("err.session") })
		return
	}
	ip := h.clientIP(r)
	fr, err := h.store.OpenFile(r.Context(), t.Hash(), n, Client{IP: ip, UserAgent: truncate(r.UserAgent(), 256)})
	switch {
	case h.gone(w, r, err):
		return
	case err != nil:
		h.log.Error("open link file", "package", a.Info.ID, "file", n, "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
		return
	}
	defer fr.Close()
	hd := w.Header()
	hd.Set("Content-Security-Policy", fileCSP)
	hd.Set("Content-Type", fr.File.Type)
	hd.Set("Content-Disposition", contentDisposition(fr.File.Name))
	hd.Set("Content-Length", strconv.FormatInt(fr.Size(), 10))
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(w, struct{ io.Reader }{fr}, buf); err != nil {
		h.log.Warn("download interrupted", "package", a.Info.ID, "file", n, "ip", ip, "err", err)
		return
	}
	h.log.Info("file downloaded", "package", a.Info.ID, "file", n, "ip", ip)
}

// contentDisposition is an RFC 6266 attachment header: an ASCII fallback
// filename and the exact name as RFC 8187 filename*.
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '%' || r == ';' || r >= utf8.RuneSelf:
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for _, c := range []byte(name) {
		if attrChar(c) {
			ext.WriteByte(c)
		} else {
			fmt.Fprintf(&ext, "%%%02X", c)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// attrChar is RFC 8187's attr-char.
func attrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
