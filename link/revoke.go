package link

import (
	"errors"
	"net/http"

	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/templates"
)

// senderPage shows the sender the package, its status and its download log.
func (h *Handler) senderPage(w http.ResponseWriter, r *http.Request, status int, t token.Token, info *Info) {
	d := h.newPage(r, h.lang(r), h.Prefix()+"revoke/"+t.Text())
	d.Title = d.T("rv.title")
	d.Footer = "footer.sender"
	d.CSRF = h.csrfToken(t)
	h.describe(d, info, "")
	d.Recipients = info.Recipients
	st := info.Status(h.now())
	d.CanRevoke = st == StatusActive || st == StatusExhausted
	log, err := h.store.PackageLog(r.Context(), info.ID)
	if err != nil {
		h.log.Error("read download log", "package", info.ID, "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
		return
	}
	for _, e := range log {
		d.Log = append(d.Log, logView{
			Time: templates.FormatTime(d.Lang, e.Time, h.loc), Recipient: e.Recipient,
			File: e.FileName, IP: e.IP, Agent: e.UserAgent,
		})
	}
	h.render(w, status, "revoke", d)
}

// revokePage is GET d/revoke/{token}; it changes nothing.
func (h *Handler) revokePage(w http.ResponseWriter, r *http.Request, text string) {
	t, a, ok := h.resolve(w, r, text, RoleSender)
	if !ok {
		return
	}
	h.senderPage(w, r, http.StatusOK, t, a.Info)
}

// revokePost is POST d/revoke/{token}: the sender withdraws the link.
func (h *Handler) revokePost(w http.ResponseWriter, r *http.Request, text string) {
	if !h.form(w, r) {
		return
	}
	t, a, ok := h.resolve(w, r, text, RoleSender)
	if !ok || !h.csrfOK(w, r, t) {
		return
	}
	if r.PostForm.Get("action") != "revoke" {
		h.result(w, r, "", http.StatusBadRequest, "forbidden")
		return
	}
	ip := h.clientIP(r)
	info, err := h.store.Revoke(r.Context(), t.Hash(), Client{IP: ip, UserAgent: truncate(r.UserAgent(), 256)})
	switch {
	case err == nil:
		h.log.Info("link revoked by sender", "package", info.ID, "ip", ip)
		h.result(w, r, "", http.StatusOK, "revoked_done", "footer.sender")
	case errors.Is(err, ErrRevoked), errors.Is(err, ErrExpired):
		if info == nil {
			info = a.Info
		}
		h.senderPage(w, r, http.StatusConflict, t, info)
	default:
		h.log.Error("revoke link", "package", a.Info.ID, "err", err)
		h.result(w, r, "", http.StatusInternalServerError, "error")
	}
}
