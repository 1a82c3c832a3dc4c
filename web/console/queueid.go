package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// spoolOnly is the message page's record for a queue ID the hold store
// does not know: the spool's record as a read-only view (no hold, no
// actions), so every queue ID in the message log opens in the console.
func (h *Handler) spoolOnly(id string) (*hold.Record, error) {
	if h.spool == nil {
		return nil, hold.ErrNotFound
	}
	srec, err := h.spool.Get(id)
	if errors.Is(err, spool.ErrNotFound) {
		return nil, hold.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rec := &hold.Record{ID: srec.ID, State: hold.State(srec.State), Sender: srec.MailFrom, Subject: srec.Subject,
		CreatedAt: srec.ReceivedAt, DecidedAt: srec.FinishedAt, Report: srec.Report}
	var dec struct{ Rules, Actions []string }
	if json.Unmarshal(srec.Decision, &dec) == nil {
		rec.Decision.Rules, rec.Decision.Actions = dec.Rules, dec.Actions
	}
	return rec, nil
}

// queueIDChars are the bytes a queue ID may hold; anything else in the
// search box is not an ID.
func validQueueID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// queueIDSearch sends a search for a queue ID (as in the message log or
// `sendguard queue list`) straight to that message's page. It reports
// whether it answered.
func (h *Handler) queueIDSearch(w http.ResponseWriter, r *http.Request) bool {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" || !validQueueID(id) {
		return false
	}
	http.Redirect(w, r, h.prefix+"msg/"+url.PathEscape(id), http.StatusSeeOther)
	return true
}
