package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sendguard/sendguard/hold"
)

// Limits of a decision form.
const (
	maxReason = 500
	maxBulk   = 200
)

// bulkActions are the bulk form's choices.
var bulkActions = []string{"release", "release_bcc", "release_encrypt", "reject"}

// decision is one release or rejection as a reviewer asked for it.
type decision struct {
	to     hold.State
	mode   hold.ReleaseMode
	reason string
}

// parseDecision reads op ("release", "release_bcc", "release_encrypt",
// "reject") and the reason; a rejection needs a reason.
func parseDecision(op, reason string) (decision, string) {
	reason = strings.TrimSpace(printable(reason, maxReason))
	switch op {
	case "release":
		return decision{to: hold.StateReleased, mode: hold.ModeAsIs, reason: reason}, ""
	case "release_bcc":
		return decision{to: hold.StateReleased, mode: hold.ModeBcc, reason: reason}, ""
	case "release_encrypt":
		return decision{to: hold.StateReleased, mode: hold.ModeEncrypt, reason: reason}, ""
	case "reject":
		if reason == "" {
			return decision{}, "reason"
		}
		return decision{to: hold.StateRejected, reason: reason}, ""
	}
	return decision{}, "op"
}

func (h *Handler) apply(r *http.Request, rc *reqCtx, id string, d decision) error {
	var opts []hold.TransitionOption
	if d.to == hold.StateReleased {
		opts = append(opts, hold.WithMode(d.mode))
	}
	_, err := h.hold.Transition(r.Context(), id, d.to, rc.actor, d.reason, opts...)
	return err
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	op := "release"
	switch r.PostFormValue("mode") {
	case "bcc":
		op = "release_bcc"
	case "encrypt":
		op = "release_encrypt"
	}
	h.decide(w, r, rc, op, "released")
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.decide(w, r, rc, "reject", "rejected")
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request, rc *reqCtx, op, done string) {
	id := r.PathValue("id")
	self := h.prefix + "msg/" + url.PathEscape(id)
	d, bad := parseDecision(op, r.PostFormValue("reason"))
	if bad != "" {
		http.Redirect(w, r, self+"?err="+bad, http.StatusSeeOther)
		return
	}
	if err := h.apply(r, rc, id, d); err != nil {
		if errors.Is(err, hold.ErrAlreadyDecided) {
			h.fail(w, r, rc, http.StatusConflict, "msg.already")
			return
		}
		h.getFailed(w, r, rc, err)
		return
	}
	h.log.Info("decided", "id", id, "to", d.to, "mode", d.mode, "by", rc.user.Name)
	http.Redirect(w, r, self+"?done="+done, http.StatusSeeOther)
}

type confirmView struct {
	Op      string
	Reason  string
	Records []*hold.Record
	Missing int
}

// bulk applies one decision to the ticked messages after a confirmation
// page: the first POST shows what will happen, the second (confirm=1)
// does it.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ids := r.PostForm["id"]
	if len(ids) == 0 || len(ids) > maxBulk {
		h.fail(w, r, rc, http.StatusBadRequest, "bulk.count")
		return
	}
	op := r.PostFormValue("op")
	d, bad := parseDecision(op, r.PostFormValue("reason"))
	if bad != "" {
		key := "bulk.op"
		if bad == "reason" {
			key = "bulk.reason_missing"
		}
		h.fail(w, r, rc, http.StatusBadRequest, key)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		v := confirmView{Op: op, Reason: d.reason}
		for _, id := range ids {
			rec, err := h.hold.Get(r.Context(), id)
			if err != nil || rec.State != hold.StateHeld {
				v.Missing++
				continue
			}
			rec.Report = nil
			v.Records = append(v.Records, rec)
		}
		p := h.newPage(r, rc, "bulk.title", "queue")
		p.D = v
		h.render(w, http.StatusOK, "confirm", p)
		return
	}
	ok, failed := 0, 0
	for _, id := range ids {
		if err := h.apply(r, rc, id, d); err != nil {
			failed++
			continue
		}
		ok++
	}
	h.log.Info("bulk decision", "op", op, "ok", ok, "failed", failed, "by", rc.user.Name)
	http.Redirect(w, r, h.prefix+"queue?done="+strconv.Itoa(ok)+"&failed="+strconv.Itoa(failed), http.StatusSeeOther)
}
