package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/templates"
)

// The incident kit: from a delivered (sent or released) message, revoke
// its download links, send deletion requests to its original recipients,
// export a PPC report draft and an evidence bundle. Reviewers and admins
// only; every step is an audit event naming the user (sent.Kit).

func (h *Handler) incidentRoutes(m *http.ServeMux, p string) {
	if h.kit == nil {
		return
	}
	m.HandleFunc("GET "+p+"sent", h.page(RoleReviewer, h.sentPage))
	m.HandleFunc("GET "+p+"sent/{id}", h.page(RoleReviewer, h.incidentPage))
	m.HandleFunc("POST "+p+"sent/{id}/revoke", h.action(RoleReviewer, h.incidentRevoke))
	m.HandleFunc("POST "+p+"sent/{id}/delete-request", h.action(RoleReviewer, h.incidentDeletion))
	m.HandleFunc("GET "+p+"sent/{id}/ppc", h.page(RoleReviewer, h.ppcPage))
	m.HandleFunc("GET "+p+"sent/{id}/evidence", h.page(RoleReviewer, h.evidence))
	m.HandleFunc("GET "+p+"sent/{id}/body", h.page(RoleAdmin, h.sentBody))
}

type sentView struct {
	Incidents []sent.OpenIncident
	Q         url.Values
	Rows      []*sent.Record
	Err       string
	Retention string
	Searched  bool
}

func (h *Handler) sentPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	v := sentView{Q: r.URL.Query(), Retention: days(h.kit.Store.Retention)}
	var err error
	if v.Incidents, err = h.kit.Store.Incidents(r.Context(), 50); err != nil {
		h.log.Error("list incidents", "err", err)
	}
	q, err := sent.ParseQuery(v.Q.Get)
	if err != nil {
		v.Err = err.Error()
	} else {
		v.Searched = len(v.Q) > 0
		if q.Limit == 0 {
			q.Limit = 200
		}
		if v.Rows, err = h.kit.Store.Find(r.Context(), q); err != nil {
			h.log.Error("find sent mail", "err", err)
			h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
			return
		}
	}
	p := h.newPage(r, rc, "sent.title", "sent")
	p.D = v
	h.render(w, http.StatusOK, "sent", p)
}

type incidentView struct {
	ID         string
	Rec        *sent.Record
	In         *sent.Incident
	Missing    bool
	Retention  string
	People     string
	Reportable bool
	Done, N    string // the flash of the step just taken
}

func days(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix((d/time.Hour*time.Hour).String(), "0s"), "0m")
}

func (h *Handler) incidentPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	v := incidentView{ID: id, Retention: days(h.kit.Store.Retention)}
	rec, in, err := h.kit.Get(r.Context(), id)
	status := http.StatusOK
	switch {
	case errors.Is(err, sent.ErrNotFound):
		v.Missing, status = true, http.StatusNotFound
	case err != nil:
		h.log.Error("read sent record", "err", err)
		h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
		return
	default:
		v.Rec, v.In = rec, in
		v.Reportable = templates.PPCReportable(rec.People, slices.Contains(rec.DataItems, rules.DataItemMyNumber))
	}
	if d := r.URL.Query().Get("done"); d == "incident.revoked" || d == "incident.requested" {
		v.Done, v.N = d, itoa(atoi(r.URL.Query().Get("n")))
	}
	p := h.newPage(r, rc, "incident.title", "sent")
	if v.Rec != nil {
		v.People = p.People(v.Rec.People, v.Rec.DataItems)
	}
	p.D = v
	h.render(w, status, "incident", p)
}

func (h *Handler) incidentRevoke(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	n, err := h.kit.RevokeLinks(r.Context(), id, h.actor(r, rc.user.Name, rc.user.Role))
	h.incidentDone(w, r, rc, id, err, "incident.revoked", n)
}

func (h *Handler) incidentDeletion(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	lang := r.PostFormValue("lang")
	if !templates.Supported(lang) {
		lang = templates.DefaultLanguage
	}
	n, err := h.kit.RequestDeletion(r.Context(), id, lang, h.actor(r, rc.user.Name, rc.user.Role))
	h.incidentDone(w, r, rc, id, err, "incident.requested", n)
}

func (h *Handler) incidentDone(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string, err error, done string, n int) {
	switch {
	case errors.Is(err, sent.ErrNotFound):
		h.fail(w, r, rc, http.StatusNotFound, "incident.missing")
	case err != nil:
		h.log.Error("incident step", "queue_id", id, "err", err)
		h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
	default:
		http.Redirect(w, r, h.prefix+"sent/"+url.PathEscape(id)+"?done="+done+"&n="+itoa(n), http.StatusSeeOther)
	}
}

func atoi(s string) int {
	var n int
	if json.Unmarshal([]byte(s), &n) != nil {
		return 0
	}
	return n
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (h *Handler) ppcPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	p := h.newPage(r, rc, "ppc.title", "sent")
	d, err := h.kit.Draft(r.Context(), id, p.Lang, h.actor(r, rc.user.Name, rc.user.Role))
	if errors.Is(err, sent.ErrNotFound) {
		p.D = incidentView{ID: id, Missing: true, Retention: days(h.kit.Store.Retention)}
		h.render(w, http.StatusNotFound, "incident", p)
		return
	}
	if err != nil {
		h.log.Error("ppc draft", "queue_id", id, "err", err)
		h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
		return
	}
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="ppc-draft-`+safeName(id)+`.json"`)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(d)
		return
	}
	p.D = d
	h.render(w, http.StatusOK, "ppc", p)
}

func (h *Handler) evidence(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	ev, err := h.kit.Evidence(r.Context(), id, h.actor(r, rc.user.Name, rc.user.Role))
	if errors.Is(err, sent.ErrNotFound) {
		h.fail(w, r, rc, http.StatusNotFound, "incident.missing")
		return
	}
	if err != nil {
		h.log.Error("evidence bundle", "queue_id", id, "err", err)
		h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="evidence-`+safeName(id)+`.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(ev)
}

// safeName keeps an ID usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// sentBody downloads the kept original message (admins only, audited),
// never rendered.
func (h *Handler) sentBody(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	body, err := h.kit.Body(r.Context(), id, h.actor(r, rc.user.Name, rc.user.Role))
	if errors.Is(err, sent.ErrNotFound) {
		h.fail(w, r, rc, http.StatusNotFound, "incident.missing")
		return
	}
	if err != nil {
		h.log.Error("kept body", "queue_id", id, "err", err)
		h.fail(w, r, rc, http.StatusInternalServerError, "error.internal")
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeName(id)+`.eml"`)
	io.Copy(w, body)
}
