package link

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sendguard/sendguard/templates"
)

// pageData is what every page template sees. Strings are escaped by
// html/template; nothing here is marked safe.
type pageData struct {
	Lang   string
	Title  string
	Prefix string // base path + "d/"
	Self   string // this page's path, for forms and language links
	Langs  []langLink
	CSRF   string

	Sender, Subject, Expires, Status string
	Recipients                       []string
	Files                            []fileView

	CodeSent bool   // show the code form
	SentTo   string // masked address the code went to
	Ready    bool   // session valid: show download links
	Error    string // translated form error

	CanRevoke bool
	Log       []logView

	Result, Body string // result pages
	Footer       string // catalog key of the footer

	cat catalog
}

type langLink struct {
	Code, Label, URL string
	Current          bool
}

type fileView struct {
	Name, Size, Left, URL string
}

type logView struct {
	Time, Recipient, File, IP, Agent string
}

// T translates key.
func (d *pageData) T(key string, args ...any) string { return d.cat.T(d.Lang, key, args...) }

// lang picks the page language: an explicit choice (query or form), the
// browser's Accept-Language, the default.
func (h *Handler) lang(r *http.Request) string {
	l := r.URL.Query().Get("lang")
	if r.PostForm != nil && r.PostForm.Get("lang") != "" {
		l = r.PostForm.Get("lang")
	}
	return templates.Pick(l, r.Header.Get("Accept-Language"), h.defLang)
}

func (h *Handler) newPage(r *http.Request, lang, self string) *pageData {
	if self == "" {
		self = r.URL.Path
	}
	d := &pageData{Lang: lang, Prefix: h.Prefix(), Self: self, Footer: "footer", cat: h.cat}
	for _, l := range templates.Languages() {
		d.Langs = append(d.Langs, langLink{
			Code: l, Label: h.cat.T(l, "lang.name"), Current: l == lang,
			URL: self + "?lang=" + url.QueryEscape(l),
		})
	}
	return d
}

// describe fills the package's public description.
func (h *Handler) describe(d *pageData, info *Info, linkPath string) {
	d.Sender = info.Sender
	d.Subject = info.Subject
	d.Expires = templates.FormatTime(d.Lang, info.Expires, h.loc)
	d.Status = d.T("status." + string(info.Status(h.now())))
	for n, f := range info.Files {
		v := fileView{Name: f.Name, Size: templates.FormatSize(f.Size)}
		if left := info.Remaining(n); left >= 0 {
			v.Left = d.T("label.left", left)
		}
		if linkPath != "" && info.Remaining(n) != 0 {
			v.URL = linkPath + "/file/" + itoa(n)
		}
		d.Files = append(d.Files, v)
	}
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

// result shows a page that only says what happened; lang "" means the
// request's language.
func (h *Handler) result(w http.ResponseWriter, r *http.Request, lang string, status int, kind string, footer ...string) {
	if lang == "" {
		lang = h.lang(r)
	}
	d := h.newPage(r, lang, "")
	if len(footer) > 0 {
		d.Footer = footer[0]
	}
	d.Result = kind
	d.Title = d.T("result." + kind + ".title")
	d.Body = d.T("result." + kind + ".body")
	h.render(w, status, "result", d)
}

// maskAddress shows enough of an address to recognise it: the first
// character of the local part and the domain.
func maskAddress(a string) string {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

func itoa(n int) string { return strconv.Itoa(n) }
