package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/hold/summary"
	"github.com/sendguard/sendguard/templates"
)

// pageData is what every page template sees.
type pageData struct {
	Lang    string
	Title   string
	Base    string // base path, ending in "/"
	Self    string // this link's path
	Langs   []langLink
	CSRF    string
	Variant string // cancel page: "delay" or "withdraw"
	// Preview is the start of the message's text, masked.
	Preview string
	// Waiting names who decides a message held for approval ("a@x, b@x").
	Waiting string
	// NoticeKind names the deadline label ("confirm", "approve", ...).
	NoticeKind string
	S          templates.Summary
	Deadline   string
	Acking     bool     // show the acknowledgement boxes
	Acks       []string // every box the sender must tick
	Error      string   // catalog key of a form error
	Reason     string   // an approver's reason, kept on a refused form
	Result     string   // result page: sent, already, expired, ...

	DecidedState, DecidedMode, DecidedBy, DecidedAt string

	ticked map[string]bool
	cat    *templates.Catalog
}

type langLink struct {
	Code, Label, URL string
	Current          bool
}

// T translates key.
func (d *pageData) T(key string, args ...any) string { return d.cat.T(d.Lang, key, args...) }

// Why is the "why held" list in the reader's language.
func (d *pageData) Why() []string { return d.cat.Why(d.Lang, d.S) }

// Unscannable says in plain words why a part could not be checked.
func (d *pageData) Unscannable(reason string) string { return d.cat.Unscannable(d.Lang, reason) }

// Field names a recipient field.
func (d *pageData) Field(f string) string { return d.cat.Field(d.Lang, f) }

// Finding describes a finding with its masked samples.
func (d *pageData) Finding(f templates.FindingView) string { return d.cat.Finding(d.Lang, f) }

// Ticked reports whether the box with value v was ticked on the refused form.
func (d *pageData) Ticked(v string) bool { return d.ticked[v] }

// lang picks the page language: an explicit choice (query or form), the
// browser's Accept-Language, the record's language, the default.
func (h *Handler) lang(r *http.Request, rec *hold.Record) string {
	l := r.URL.Query().Get("lang")
	if r.PostForm != nil && r.PostForm.Get("lang") != "" {
		l = r.PostForm.Get("lang")
	}
	if templates.Supported(l) {
		return l
	}
	if l := templates.Negotiate(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	if rec != nil && templates.Supported(rec.Language) {
		return rec.Language
	}
	return h.defLang
}

func (h *Handler) newPage(r *http.Request, lang string, rec *hold.Record) *pageData {
	d := &pageData{Lang: lang, Base: h.basePath, cat: h.cat}
	if tok := r.PathValue("token"); tok != "" {
		d.Self = h.basePath + "h/" + tok
	} else {
		d.Self = r.URL.Path
	}
	for _, l := range templates.Languages() {
		d.Langs = append(d.Langs, langLink{
			Code: l, Label: h.cat.T(l, "lang.name"), Current: l == lang,
			URL: d.Self + "?lang=" + url.QueryEscape(l),
		})
	}
	if rec != nil {
		d.S = summary.Of(rec, nil)
		d.NoticeKind = noticeKind(rec.Kind)
		d.Deadline = templates.FormatTime(lang, rec.Deadline, h.loc)
	}
	return d
}

// noticeKind maps a hold kind to the notice kind whose labels its pages use.
func noticeKind(k hold.Kind) string {
	switch k {
	case hold.KindSender:
		return "confirm"
	case hold.KindApprover:
		return "approve"
	case hold.KindReview:
		return "review_notice"
	}
	return "delay"
}

// render writes a page with its status; a template failure becomes a bare
// 500 without internals.
func (h *Handler) render(w http.ResponseWriter, status int, page string, d *pageData) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.Error("render page", "page", page, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// result shows a result page; rec, when known, adds the message's subject
// and its outcome.
func (h *Handler) result(w http.ResponseWriter, r *http.Request, lang string, status int, kind string, rec *hold.Record) {
	d := h.newPage(r, lang, rec)
	d.Result = kind
	d.Title = h.cat.T(lang, "result."+kind+".title")
	d.Deadline = ""
	if rec != nil && rec.State.Final() {
		d.DecidedState, d.DecidedMode = string(rec.State), string(rec.Mode)
		d.DecidedBy = rec.DecidedBy.Name
		d.DecidedAt = templates.FormatTime(lang, rec.DecidedAt, h.loc)
	}
	h.render(w, status, "result", d)
}

// decided shows the "already decided" page from a DecidedError.
func (h *Handler) decided(w http.ResponseWriter, r *http.Request, lang string, rec *hold.Record, de *hold.DecidedError) {
	if rec == nil {
		rec = &hold.Record{ID: de.ID}
	} else {
		rec = copyRecord(rec)
	}
	rec.State, rec.Mode, rec.DecidedBy, rec.DecidedAt = de.State, de.Mode, de.By, de.At
	kind, status := "already", http.StatusConflict
	if de.State == hold.StateExpired {
		kind, status = "expired", http.StatusGone
	}
	h.result(w, r, lang, status, kind, rec)
}

func copyRecord(r *hold.Record) *hold.Record {
	c := *r
	return &c
}

// lookupErrorPage shows the page for a failed token lookup or transition
// and reports whether the failure counts against the client's IP.
func (h *Handler) lookupErrorPage(w http.ResponseWriter, r *http.Request, lang string, rec *hold.Record, err error) (failure bool) {
	var de *hold.DecidedError
	switch {
	case errors.As(err, &de):
		h.decided(w, r, lang, rec, de)
	case errors.Is(err, hold.ErrTokenUsed) && rec != nil && rec.State == hold.StateHeld && rec.Required() > 1:
		// An approver's used link on a message still waiting for others.
		h.result(w, r, lang, http.StatusConflict, "already_approved", rec)
	case errors.Is(err, hold.ErrTokenUsed):
		h.result(w, r, lang, http.StatusConflict, "already", rec)
	case errors.Is(err, hold.ErrTokenExpired):
		h.result(w, r, lang, http.StatusGone, "expired", rec)
	case errors.Is(err, hold.ErrTokenWrongRole):
		h.result(w, r, lang, http.StatusForbidden, "wrong_role", nil)
	case errors.Is(err, hold.ErrTokenUnknown), errors.Is(err, hold.ErrNotFound):
		h.result(w, r, lang, http.StatusNotFound, "invalid", nil)
		return true
	default:
		h.log.Error("hold store", "err", err)
		h.result(w, r, lang, http.StatusInternalServerError, "error", nil)
	}
	return false
}
