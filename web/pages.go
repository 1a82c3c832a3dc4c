package web

import (
	"context"
	"errors"
	"github.com/sendguard/sendguard/internal/webbase"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/hold/summary"
	"github.com/sendguard/sendguard/templates"
)

// maxReasonRunes bounds an approver's rejection reason.
const maxReasonRunes = 500

// lookup finds the role a token was issued for among the roles these pages
// serve. It changes nothing.
func (h *Handler) lookup(ctx context.Context, hash [32]byte) (hold.Role, *hold.Record, error) {
	now := h.now()
	for _, role := range roles {
		_, rec, err := h.store.LookupToken(ctx, hash, role, now)
		if errors.Is(err, hold.ErrTokenWrongRole) {
			continue
		}
		return role, rec, err
	}
	return "", nil, hold.ErrTokenWrongRole
}

// pastDeadline returns the outcome a held record's passed deadline will
// give it, which the timer may not have applied yet.
func (h *Handler) pastDeadline(rec *hold.Record) *hold.DecidedError {
	if rec.State != hold.StateHeld || rec.Deadline.IsZero() || h.now().Before(rec.Deadline) {
		return nil
	}
	de := &hold.DecidedError{ID: rec.ID, State: hold.StateExpired, By: hold.System, At: rec.Deadline}
	if rec.Kind == hold.KindDelay {
		de.State, de.Mode = hold.StateReleased, hold.ModeAsIs
	}
	return de
}

// get shows the page for a link. It reads and never writes.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	ip := h.clientIP(r)
	if h.lim.Blocked(ip, h.now()) {
		h.result(w, r, h.lang(r, nil), http.StatusTooManyRequests, "rate_limited", nil)
		return
	}
	raw, hash, ok := parseToken(r.PathValue("token"))
	if !ok {
		h.lim.Fail(ip, h.now())
		h.result(w, r, h.lang(r, nil), http.StatusNotFound, "invalid", nil)
		return
	}
	role, rec, err := h.lookup(r.Context(), hash)
	lang := h.lang(r, rec)
	if err != nil {
		if h.lookupErrorPage(w, r, lang, rec, err) {
			h.lim.Fail(ip, h.now())
		}
		return
	}
	if rec.State.Final() {
		h.result(w, r, lang, http.StatusConflict, "already", rec)
		return
	}
	if de := h.pastDeadline(rec); de != nil {
		h.decided(w, r, lang, rec, de)
		return
	}
	h.rolePage(w, r, http.StatusOK, lang, role, rec, raw, func(*pageData) {})
}

// rolePage shows the page a role acts on; adjust sets form errors.
func (h *Handler) rolePage(w http.ResponseWriter, r *http.Request, status int, lang string, role hold.Role, rec *hold.Record, raw []byte, adjust func(*pageData)) {
	d := h.newPage(r, lang, rec)
	d.CSRF = h.csrfToken(raw)
	page := pageFor(role, rec.Kind)
	switch page {
	case "confirm":
		d.Acking, d.Acks = true, d.S.Acks()
		if h.preview != nil {
			d.Preview = h.preview(rec.ID)
		}
		d.Title = h.cat.T(lang, "page.confirm.title")
	case "approve":
		d.Title = h.cat.T(lang, "page.approve.title")
	default:
		d.Variant = "withdraw"
		if rec.Kind == hold.KindDelay {
			d.Variant = "delay"
		}
		if rec.Kind == hold.KindApprover && role == hold.RoleSender {
			d.Waiting = strings.Join(rec.Approvers, ", ")
		}
		d.Title = h.cat.T(lang, "page."+d.Variant+".title")
	}
	adjust(d)
	h.render(w, status, page, d)
}

// pageFor names the page of a role on a hold kind: the sender confirms
// only what waits for the sender, and may withdraw anything else.
func pageFor(role hold.Role, kind hold.Kind) string {
	switch {
	case role == hold.RoleSender && kind == hold.KindSender:
		return "confirm"
	case role == hold.RoleApprover:
		return "approve"
	}
	return "cancel"
}

// act is what a POST asks for.
type act struct {
	to       hold.State
	mode     hold.ReleaseMode
	result   string
	reason   string
	needAcks bool
	// approve counts one approver's approval (N of M) instead of
	// releasing outright.
	approve bool
	// onlyAttachments: the Bcc conversion hides the recipients from each
	// other, so only the attachments need a tick.
	onlyAttachments bool
}

// actionFor maps a form's action to a transition, or reports it is not
// available on this page.
func actionFor(page, action string, s templates.Summary) (act, bool) {
	switch page + "/" + action {
	case "confirm/send":
		return act{to: hold.StateReleased, mode: hold.ModeAsIs, result: "sent", reason: "confirmed by sender", needAcks: true}, true
	case "confirm/send_bcc":
		if !s.MassExposure {
			return act{}, false
		}
		return act{to: hold.StateReleased, mode: hold.ModeBcc, result: "sent_bcc", reason: "confirmed by sender, recipients in Bcc", needAcks: true, onlyAttachments: true}, true
	case "confirm/cancel", "cancel/cancel":
		return act{to: hold.StateCancelled, result: "cancelled", reason: "cancelled by sender"}, true
	case "approve/approve":
		return act{to: hold.StateReleased, mode: hold.ModeAsIs, result: "approved", reason: "approved", approve: true}, true
	case "approve/reject":
		return act{to: hold.StateRejected, result: "rejected"}, true
	}
	return act{}, false
}

// post acts on a link: checks origin, CSRF token, role, action and the
// acknowledgements, then makes the one transition.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	ip := h.clientIP(r)
	if h.lim.Blocked(ip, h.now()) {
		h.result(w, r, h.lang(r, nil), http.StatusTooManyRequests, "rate_limited", nil)
		return
	}
	if webbase.CrossSite(r, h.origin) {
		h.log.Warn("cross-site post refused", "ip", ip, "origin", r.Header.Get("Origin"))
		h.result(w, r, h.lang(r, nil), http.StatusForbidden, "forbidden", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.result(w, r, h.lang(r, nil), http.StatusBadRequest, "forbidden", nil)
		return
	}
	raw, hash, ok := parseToken(r.PathValue("token"))
	if !ok {
		h.lim.Fail(ip, h.now())
		h.result(w, r, h.lang(r, nil), http.StatusNotFound, "invalid", nil)
		return
	}
	if !h.csrfValid(raw, r.PostForm.Get("csrf")) {
		h.log.Warn("post without valid csrf token refused", "ip", ip)
		h.result(w, r, h.lang(r, nil), http.StatusForbidden, "forbidden", nil)
		return
	}
	role, rec, err := h.lookup(r.Context(), hash)
	lang := h.lang(r, rec)
	if err != nil {
		if h.lookupErrorPage(w, r, lang, rec, err) {
			h.lim.Fail(ip, h.now())
		}
		return
	}
	page := pageFor(role, rec.Kind)
	s := summary.Of(rec, nil)
	a, ok := actionFor(page, r.PostForm.Get("action"), s)
	if !ok {
		h.result(w, r, lang, http.StatusForbidden, "not_allowed", rec)
		return
	}
	if a.needAcks {
		ticked := map[string]bool{}
		for _, v := range r.PostForm["ack"] {
			ticked[v] = true
		}
		need := s.Acks()
		if a.onlyAttachments {
			need = s.AttachmentAcks()
		}
		if slices.ContainsFunc(need, func(v string) bool { return !ticked[v] }) {
			h.rolePage(w, r, http.StatusUnprocessableEntity, lang, role, rec, raw, func(d *pageData) {
				d.Error, d.ticked = "page.err.acks", ticked
			})
			return
		}
	}
	if a.to == hold.StateRejected {
		a.reason = strings.TrimSpace(r.PostForm.Get("reason"))
		if a.reason == "" || utf8.RuneCountInString(a.reason) > maxReasonRunes {
			h.rolePage(w, r, http.StatusUnprocessableEntity, lang, role, rec, raw, func(d *pageData) {
				d.Error, d.Reason = "page.err.reason", a.reason
			})
			return
		}
	}
	actor := hold.Actor{Name: actorName(role, rec), Role: string(role), IP: ip, UserAgent: truncate(r.UserAgent(), 256)}
	var opts []hold.TransitionOption
	if a.to == hold.StateReleased {
		opts = append(opts, hold.WithMode(a.mode))
	}
	var done *hold.Record
	if a.approve {
		done, err = h.store.ApproveWithToken(r.Context(), hash, role, actor, a.reason)
		switch {
		case errors.Is(err, hold.ErrAlreadyApproved):
			done.Report = rec.Report
			h.result(w, r, lang, http.StatusConflict, "already_approved", done)
			return
		case errors.Is(err, hold.ErrNotApprover):
			h.result(w, r, lang, http.StatusForbidden, "not_allowed", rec)
			return
		case err == nil && done.State == hold.StateHeld:
			h.log.Info("approval recorded by link", "id", done.ID, "approvals", len(done.Approvals), "required", done.Required(), "ip", ip)
			done.Report = rec.Report
			h.result(w, r, lang, http.StatusOK, "approved_partial", done)
			return
		}
	} else {
		done, err = h.store.TransitionWithToken(r.Context(), hash, role, a.to, actor, a.reason, opts...)
	}
	if err != nil {
		if errors.Is(err, hold.ErrTokenUsed) {
			// Another request used the token first: show what it decided.
			if _, cur, _ := h.lookup(r.Context(), hash); cur != nil {
				rec = cur
			}
		}
		if h.lookupErrorPage(w, r, lang, rec, err) {
			h.lim.Fail(ip, h.now())
		}
		return
	}
	h.log.Info("hold decided by link", "id", done.ID, "role", role, "state", done.State, "mode", done.Mode, "ip", ip)
	done.Report = rec.Report
	h.result(w, r, lang, http.StatusOK, a.result, done)
}

// actorName is who the audit log names for a link's user: links are bound
// to a message and role, not to a person, so the sender's address for the
// sender's links and the approver when there is only one.
func actorName(role hold.Role, rec *hold.Record) string {
	if role == hold.RoleApprover {
		if len(rec.Approvers) == 1 {
			return rec.Approvers[0]
		}
		return "approver"
	}
	return rec.Sender
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
