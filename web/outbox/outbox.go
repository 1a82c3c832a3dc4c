// Package outbox serves the demo outbox: with no delivery.next_hop, mail
// sendguard would deliver is kept under data_dir/outbox (ID.eml and
// ID.json), and these pages show it the way a mail client would, in
// Japanese or English: decoded headers, the text body with clickable
// links, and the attachments listed.
//
// Invariants:
//   - The mail's own HTML is never rendered: only its text part is shown
//     (escaped), or, for an HTML-only mail, its text without markup.
//   - Only http and https links become clickable.
//   - Nothing outside the outbox directory is served.
package outbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/templates"
)

// maxMessage bounds what one page reads of a saved message.
const maxMessage = 32 << 20

// Config configures a Handler.
type Config struct {
	// Dir is the outbox directory (data_dir/outbox).
	Dir string
	// Location is the time zone of times shown; nil means UTC.
	Location *time.Location
	// DefaultLang is the language when the reader names none; empty means
	// templates.DefaultLanguage.
	DefaultLang string
	Logger      *slog.Logger
}

// Handler serves GET /outbox and GET /outbox/{name}.
type Handler struct {
	dir   string
	loc   *time.Location
	def   string
	log   *slog.Logger
	cat   *templates.Catalog
	pages *template.Template
}

// New parses the pages and loads the catalog.
func New(cfg Config) (*Handler, error) {
	cat, err := templates.LoadCatalog()
	if err != nil {
		return nil, err
	}
	h := &Handler{dir: cfg.Dir, loc: cfg.Location, def: cfg.DefaultLang, log: cfg.Logger, cat: cat}
	if h.loc == nil {
		h.loc = time.UTC
	}
	if !templates.Supported(h.def) {
		h.def = templates.DefaultLanguage
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.pages, err = template.New("").Parse(pageTemplates)
	if err != nil {
		return nil, fmt.Errorf("outbox: parse pages: %w", err)
	}
	return h, nil
}

// Register adds the outbox routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /outbox", h.list)
	mux.HandleFunc("GET /outbox/{name}", h.message)
}

// Item is one line of the outbox list.
type Item struct {
	Name      string // ID.eml
	Delivered string
	From      string // envelope sender; empty for notices and DSNs
	Rcpts     []string
	Subject   string
}

// envelope is the JSON the demo transport writes next to each message.
type envelope struct {
	MailFrom  string    `json:"mail_from"`
	Rcpts     []string  `json:"rcpts"`
	Delivered time.Time `json:"delivered"`
}

type page struct {
	Lang  string
	Langs []langLink
	Self  string
	Items []Item
	M     *Message
	Name  string
	cat   *templates.Catalog
}

type langLink struct {
	Code, Label, URL string
	Current          bool
}

// T translates key in the page's language.
func (p *page) T(key string, args ...any) string { return p.cat.T(p.Lang, "outbox."+key, args...) }

func (h *Handler) newPage(r *http.Request, self string) *page {
	p := &page{Lang: templates.Pick(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), h.def), Self: self, cat: h.cat}
	for _, l := range templates.Languages() {
		p.Langs = append(p.Langs, langLink{Code: l, Label: h.cat.T(l, "lang.name"), URL: self + "?lang=" + l, Current: l == p.Lang})
	}
	return p
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "/outbox")
	entries, _ := os.ReadDir(h.dir)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		var env envelope
		data, err := os.ReadFile(filepath.Join(h.dir, e.Name()))
		if err != nil || json.Unmarshal(data, &env) != nil {
			continue
		}
		it := Item{Name: id + ".eml", From: env.MailFrom, Rcpts: env.Rcpts,
			Delivered: templates.FormatTime(p.Lang, env.Delivered, h.loc)}
		it.Subject = subjectOf(filepath.Join(h.dir, it.Name))
		p.Items = append(p.Items, it)
	}
	slices.Reverse(p.Items) // newest first: IDs sort by time
	h.render(w, "list", p)
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.ContainsAny(name, "/\\") || !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	path := filepath.Join(h.dir, name)
	if r.URL.Query().Get("format") == "raw" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeFile(w, r, path)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	m, err := Parse(io.LimitReader(f, maxMessage))
	if err != nil {
		h.log.Warn("outbox message unreadable", "name", name, "err", err)
	}
	p := h.newPage(r, "/outbox/"+name)
	p.M, p.Name = m, name
	if !m.Date.IsZero() {
		m.DateText = templates.FormatTime(p.Lang, m.Date, h.loc)
	}
	h.render(w, "message", p)
}

func (h *Handler) render(w http.ResponseWriter, name string, p *page) {
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, p); err != nil {
		h.log.Error("render outbox page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, b.String())
}

// subjectOf reads a saved message's decoded Subject.
func subjectOf(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	m, _ := parseHeader(bufio.NewReader(io.LimitReader(f, 256<<10)))
	if m == nil {
		return ""
	}
	return m.Subject
}

// Segment is a run of body text, a link when URL is set.
type Segment struct {
	Text string
	URL  string
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"'（）「」、。]+`)

// Linkify splits text into plain runs and http(s) links; trailing
// punctuation stays outside the link.
func Linkify(text string) []Segment {
	var out []Segment
	last := 0
	for _, m := range linkRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		for end > start && strings.ContainsRune(".,;:!?)]", rune(text[end-1])) {
			end--
		}
		if start > last {
			out = append(out, Segment{Text: text[last:start]})
		}
		out = append(out, Segment{Text: text[start:end], URL: text[start:end]})
		last = end
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}
