package console

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
)

// maxExport bounds the events one export writes.
const maxExport = 500_000

type auditQuery struct {
	Msg, Actor, Role, Action, From, To string
	After                              uint64
}

func (h *Handler) parseAudit(q url.Values) (auditQuery, hold.EventFilter, error) {
	aq := auditQuery{Msg: strings.TrimSpace(q.Get("msg")), Actor: strings.TrimSpace(q.Get("actor")),
		Role: q.Get("role"), Action: q.Get("action"), From: q.Get("from"), To: q.Get("to")}
	aq.After, _ = strconv.ParseUint(q.Get("after"), 10, 64)
	f := hold.EventFilter{MessageID: aq.Msg, Actor: aq.Actor, Role: aq.Role, Action: aq.Action}
	var err error
	if aq.From != "" {
		if f.From, err = time.ParseInLocation("2006-01-02", aq.From, h.loc); err != nil {
			return aq, f, err
		}
	}
	if aq.To != "" {
		var t time.Time
		if t, err = time.ParseInLocation("2006-01-02", aq.To, h.loc); err != nil {
			return aq, f, err
		}
		f.To = t.AddDate(0, 0, 1)
	}
	return aq, f, nil
}

func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"msg": q.Msg, "actor": q.Actor, "role": q.Role, "action": q.Action, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type auditView struct {
	Q       auditQuery
	Events  []hold.Event
	Next    string
	CSV     string
	JSONL   string
	Actions []string
	Roles   []string
	Verify  *verifyResult
}

type verifyResult struct {
	OK     bool
	Count  uint64
	Seq    uint64
	Reason string
}

var auditActions = []string{hold.ActionHold, hold.ActionRelease, hold.ActionReject, hold.ActionCancel, hold.ActionExpire,
	hold.ActionPurge, auditNote, auditSignIn, auditSignInFailed, auditSignOut, auditDownload, auditExport, auditVerify,
	"config_reload", "config_reload_refused", // written by sendguard reload and SIGHUP
	reports.AuditShadowMatch}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showAudit(w, r, rc, nil)
}

func (h *Handler) showAudit(w http.ResponseWriter, r *http.Request, rc *reqCtx, vr *verifyResult) {
	d := h.newPage(r, rc, "audit.title", "audit")
	aq, f, err := h.parseAudit(r.URL.Query())
	v := auditView{Q: aq, Actions: auditActions, Roles: []string{RoleViewer, RoleReviewer, RoleAdmin, "sender", "approver", "system"}, Verify: vr}
	if err != nil {
		d.Error = "queue.bad_filter"
	} else {
		var next uint64
		v.Events, next, err = h.auditLog.EventsRange(r.Context(), f, hold.EventPage{After: aq.After, Limit: 100, Desc: true})
		if err != nil {
			h.log.Error("list audit events", "err", err)
			d.Error = "error.internal"
		}
		if next != 0 {
			nv := aq.values()
			nv.Set("after", strconv.FormatUint(next, 10))
			v.Next = h.prefix + "audit?" + nv.Encode()
		}
	}
	ev := aq.values()
	ev.Set("format", "csv")
	v.CSV = h.prefix + "audit/export?" + ev.Encode()
	ev.Set("format", "jsonl")
	v.JSONL = h.prefix + "audit/export?" + ev.Encode()
	d.D = v
	h.render(w, http.StatusOK, "audit", d)
}

// auditExport streams every matching event, oldest first, as CSV or JSON
// Lines, and records the export itself.
func (h *Handler) auditExport(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	_, f, err := h.parseAudit(r.URL.Query())
	format := r.URL.Query().Get("format")
	if err != nil || (format != "csv" && format != "jsonl") {
		h.fail(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	h.audit(r, hold.Event{Actor: rc.actor, Action: auditExport, Reason: format})
	stamp := h.now().In(h.loc).Format("20060102-150405")
	hd := w.Header()
	var write func(e *hold.Event) error
	var flush func() error
	if format == "csv" {
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", "attachment; filename=\"sendguard-audit-"+stamp+".csv\"")
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "time", "message_id", "actor", "role", "ip", "user_agent", "action", "from", "to", "mode", "reason", "prev_hash", "hash"})
		write = func(e *hold.Event) error {
			return cw.Write([]string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano),
				cell(e.MessageID), cell(e.Actor.Name), cell(e.Actor.Role), cell(e.Actor.IP), cell(e.Actor.UserAgent),
				cell(e.Action), string(e.From), string(e.To), string(e.Mode), cell(e.Reason), e.PrevHash.String(), e.Hash.String()})
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	} else {
		hd.Set("Content-Type", "application/x-ndjson; charset=utf-8")
		hd.Set("Content-Disposition", "attachment; filename=\"sendguard-audit-"+stamp+".jsonl\"")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(true)
		write = func(e *hold.Event) error { return enc.Encode(e) }
		flush = func() error { return nil }
	}
	var after uint64
	written := 0
	for written < maxExport {
		events, next, err := h.auditLog.EventsRange(r.Context(), f, hold.EventPage{After: after, Limit: 1000})
		if err != nil {
			h.log.Error("export audit", "err", err)
			return
		}
		for i := range events {
			if err := write(&events[i]); err != nil {
				return
			}
			written++
		}
		if next == 0 {
			break
		}
		after = next
	}
	if err := flush(); err != nil {
		h.log.Warn("export audit", "err", err)
	}
}

// cell defuses spreadsheet formulas in attacker-influenced text (user
// agents, names, reasons) by prefixing an apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (h *Handler) auditVerify(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	n, err := h.auditLog.Verify(r.Context())
	vr := &verifyResult{OK: err == nil, Count: n}
	reason := fmt.Sprintf("ok: %d events", n)
	if ce, ok := errors.AsType[*hold.ChainError](err); ok {
		vr.Seq, vr.Reason = ce.Seq, ce.Reason
		reason = fmt.Sprintf("broken at %d: %s", ce.Seq, ce.Reason)
	} else if err != nil {
		h.log.Error("verify audit chain", "err", err)
		vr.Reason = "error"
		reason = "error"
	}
	h.audit(r, hold.Event{Actor: rc.actor, Action: auditVerify, Reason: reason})
	r.URL.RawQuery = ""
	h.showAudit(w, r, rc, vr)
}
