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

// auditNote is the audit action of a reviewer's internal note.
const auditNote = "note"

// decision is one release or rejection as a reviewer asked for it. The
// reason is mailed to the sender with the outcome; the note is internal
// and goes to the audit log only.
type decision struct {
	to     hold.State
	mode   hold.ReleaseMode
	reason string
	note   string
}

// parseDecision reads op ("release", "release_bcc", "release_encrypt",
// "reject"), the reason for the sender and the internal note; a rejection
// needs a reason.
func parseDecision(op, reason, note string) (decision, string) {
	reason = strings.TrimSpace(printable(reason, maxReason))
	note = strings.TrimSpace(printable(note, maxReason))
	switch op {
	case "release":
		return decision{to: hold.StateReleased, mode: hold.ModeAsIs, reason: reason, note: note}, ""
	case "release_bcc":
		return decision{to: hold.StateReleased, mode: hold.ModeBcc, reason: reason, note: note}, ""
	case "release_encrypt":
		return decision{to: hold.StateReleased, mode: hold.ModeEncrypt, reason: reason, note: note}, ""
	case "reject":
		if reason == "" {
			return decision{}, "reason"
		}
		return decision{to: hold.StateRejected, reason: reason, note: note}, ""
	}
	return decision{}, "op"
}

func (h *Handler) apply(r *http.Request, rc *reqCtx, id string, d decision) error {
	if err := h.transition(r.Context(), id, d.to, rc.actor, d.reason, d.mode); err != nil {
		return err
	}
	if d.note != "" {
		// After the decision: a note never blocks it, and the outcome
		// notice (which carries only the reason) is already on its way.
		if err := h.note(r.Context(), hold.Event{MessageID: id, Actor: rc.actor, Action: auditNote, Reason: d.note}); err != nil {
			h.log.Error("audit note", "id", id, "err", err)
		}
	}
	return nil
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
	d, bad := parseDecision(op, r.PostFormValue("reason"), r.PostFormValue("note"))
	if bad != "" {
		http.Redirect(w, r, self+"?err="+bad, http.StatusSeeOther)
		return
	}
	if d.to == hold.StateReleased && r.PostFormValue("confirm") != "1" {
		// A release cannot be undone: show what it will do first.
		v := confirmView{Op: op, Reason: d.reason, Note: d.note, Action: self + "/release", Back: self, Mode: r.PostFormValue("mode")}
		if rec, err := h.getRecord(r.Context(), id); err != nil || rec.State != hold.StateHeld {
			v.Missing++
		} else {
			rec.Report = nil
			v.Records = append(v.Records, rec)
		}
		p := h.newPage(r, rc, "bulk.title", "queue")
		p.D = v
		h.render(w, http.StatusOK, "confirm", p)
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

// confirmView is the page that says what a decision will do before it
// is done: for the ticked messages of a bulk action, or one release.
type confirmView struct {
	Op      string
	Reason  string // mailed to each sender
	Note    string // audit log only
	Action  string // where the confirmed form goes
	Back    string // where cancelling goes
	Mode    string // a single release's form value
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
	d, bad := parseDecision(op, r.PostFormValue("reason"), r.PostFormValue("note"))
	if bad != "" {
		key := "bulk.op"
		if bad == "reason" {
			key = "bulk.reason_missing"
		}
		h.fail(w, r, rc, http.StatusBadRequest, key)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		v := confirmView{Op: op, Reason: d.reason, Note: d.note, Action: h.prefix + "bulk", Back: h.prefix + "queue"}
		for _, id := range ids {
			rec, err := h.getRecord(r.Context(), id)
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
