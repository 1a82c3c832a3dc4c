package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

// catalog is the console's view of the one templates catalog: its keys
// live there under "console.".
type catalog struct{ c *templates.Catalog }

func loadCatalog() (catalog, error) {
	c, err := templates.LoadCatalog()
	return catalog{c}, err
}

// T returns key's text in lang, formatted with args; a missing key shows
// as [console.key] so a gap is visible, not fatal.
func (c catalog) T(lang, key string, args ...any) string {
	return c.c.T(lang, "console."+key, args...)
}

// has reports whether the catalog names key (for optional labels).
func (c catalog) has(key string) bool { return c.c.Has(templates.DefaultLanguage, "console."+key) }

type pageSet map[string]*template.Template

var pageNames = []string{"login", "totp", "dashboard", "queue", "message", "confirm", "audit", "policy", "error", "sso", "replay", "outcomes", "sent", "incident", "ppc"}

func parsePages(h *Handler) (pageSet, error) {
	ps := pageSet{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(template.FuncMap{
			"join": strings.Join,
			"inc":  func(i int) int { return i + 1 },
		}).ParseFS(assetsFS, "assets/templates/layout.html", "assets/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		ps[name] = t
	}
	return ps, nil
}

func loadStatic() (map[string]asset, error) {
	out := map[string]asset{}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	err := fs.WalkDir(assetsFS, "assets/static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetsFS.ReadFile(path)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path, "assets/static/")
		ct := types[name[strings.LastIndexByte(name, '.'):]]
		if ct == "" {
			return fmt.Errorf("static %s: unknown type", name)
		}
		out[name] = asset{ctype: ct, body: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read static: %w", err)
	}
	return out, nil
}

// pageData is what every page template sees; D is the page's own data.
type pageData struct {
	Lang       string
	Prefix     string
	Title      string
	Nav        string
	User       string
	Role       string
	CSRF       string
	CanAct     bool
	IsAdmin    bool
	Notice     string // catalog key of a success message
	NoticeArgs []any
	Error      string // catalog key of an error message
	Self       string // this page's path and query, for the language switch
	SharedDown bool   // the shared held queue (PostgreSQL) does not answer
	D          any

	cat catalog
	loc *time.Location
}

// T translates key.
func (d *pageData) T(key string, args ...any) string { return d.cat.T(d.Lang, key, args...) }

// TA translates key with a slice of arguments (for Notice).
func (d *pageData) TA(key string, args []any) string { return d.cat.T(d.Lang, key, args...) }

// TOr translates prefix+key, or shows key itself when there is no text.
func (d *pageData) TOr(prefix, key string) string {
	if d.cat.has(prefix + key) {
		return d.cat.T(d.Lang, prefix+key)
	}
	return key
}

// ReasonsOf is a decision's policy reasons in the console's language
// (a record from before per-language reasons has one language only).
func (d *pageData) ReasonsOf(dec hold.Decision) []string {
	if len(dec.Localized) == 0 {
		return dec.Reasons
	}
	var out []string
	for _, r := range dec.Localized {
		t := r.JA
		if d.Lang == "en" && r.EN != "" || t == "" {
			t = r.EN
		}
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// People is the "personal data of N people" line of a report, empty when
// it carries none.
func (d *pageData) People(n int, items []string) string {
	return d.cat.c.People(d.Lang, n, slices.Contains(items, rules.DataItemMyNumber))
}

// DataItems names a report's data items in the console's language.
func (d *pageData) DataItems(items []string) string { return d.cat.c.DataItems(d.Lang, items) }

// Time formats a time in the console's zone.
func (d *pageData) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(d.loc).Format("2006-01-02 15:04:05 MST")
}

// Short formats a time without seconds, still with its zone: a reviewer
// in another office must not misread it.
func (d *pageData) Short(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(d.loc).Format("01-02 15:04 MST")
}

func (h *Handler) newPage(r *http.Request, rc *reqCtx, title, nav string) *pageData {
	d := &pageData{Prefix: h.prefix, Title: title, Nav: nav, cat: h.cat, loc: h.loc, Self: r.URL.RequestURI()}
	if r.Method != http.MethodGet {
		// The language switch returns to a page it can GET.
		d.Self = h.prefix + strings.TrimPrefix(nav, "dash")
	}
	d.Lang = h.lang(r, rc)
	// Also before sign-in: with accounts in the shared store, nobody can
	// sign in while it is down, and the sign-in page says why.
	d.SharedDown = h.sharedDown(r.Context())
	if rc != nil && rc.user != nil {
		d.User, d.Role, d.CSRF = rc.user.Name, rc.user.Role, rc.sess.CSRF
		d.CanAct = roleRank(rc.user.Role) >= roleRank(RoleReviewer)
		d.IsAdmin = rc.user.Role == RoleAdmin
	} else if rc != nil && rc.sess != nil {
		d.CSRF = rc.sess.CSRF
	}
	return d
}

// render executes a page into a buffer first, so a template error never
// sends half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, d *pageData) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows an error page with a catalog message.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, key string) {
	d := h.newPage(r, rc, "error.title", "")
	d.Error = key
	h.render(w, status, "error", d)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, nil, http.StatusNotFound, "error.not_found")
}
