package console

import (
	"net/http"
	"strconv"

	"github.com/microcosm-cc/bluemonday"
)

// CSPs of the message page (which frames the mail's sanitised HTML) and
// of that frame's document: no script, no remote loads (so no tracking
// pixels or CSS beacons fire), no forms, a unique origin (sandbox), and
// only the console may frame it.
const (
	cspMessage  = csp + "; frame-src 'self'"
	cspMailHTML = "default-src 'none'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
)

// maxHTML bounds the HTML part served to the frame.
const maxHTML = 2 << 20

// newSanitizer allows text formatting, tables, lists and links; it drops
// scripts, styles, event handlers, forms, frames and every URL scheme but
// http, https and mailto, and makes links inert (no referrer, new window).
func newSanitizer() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowDataURIImages()
	return p
}

// mailHTML serves the sanitised HTML part of a held message for the
// sandboxed frame on the message page. It is never the top-level page:
// the frame's CSP sandbox gives it a unique origin even if opened alone.
func (h *Handler) mailHTML(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	if _, err := h.getRecord(r.Context(), id); err != nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	f, _, err := h.openBody(r.Context(), id)
	if err != nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	defer f.Close()
	env, err := h.parseSpooled(f)
	if err != nil || env.HTML == "" {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	src := env.HTML
	if len(src) > maxHTML {
		src = src[:maxHTML]
	}
	out := h.sanitize.Sanitize(src)
	hd := w.Header()
	hd.Set("Content-Security-Policy", cspMailHTML)
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(out)+len(htmlPrefix)))
	_, _ = w.Write([]byte(htmlPrefix))
	_, _ = w.Write([]byte(out))
}

// htmlPrefix fixes the charset of the sanitised fragment.
const htmlPrefix = "<!doctype html><meta charset=\"utf-8\">"
