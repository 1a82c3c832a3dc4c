package web

import (
	"context"
	"fmt"
	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/internal/webbase"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/templates"
)

// RoleDelay is the role of a delay notice's cancel link.
const RoleDelay hold.Role = "delay"

// roles are the token roles these pages serve, tried in this order.
var roles = [...]hold.Role{hold.RoleSender, hold.RoleApprover, RoleDelay}

// Security headers on every response. The CSP allows only this handler's
// own CSS and script; there is no inline script or style on any page.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxFormBytes bounds a POST body; the largest field is a 500-character
// rejection reason.
const maxFormBytes = 16 << 10

// TokenStore is what the pages need of the hold store: *hold.Store, or
// the cluster's shared queue when several nodes share their held mail.
type TokenStore interface {
	LookupToken(ctx context.Context, hash [32]byte, role hold.Role, now time.Time) (*hold.Token, *hold.Record, error)
	TransitionWithToken(ctx context.Context, hash [32]byte, role hold.Role, to hold.State, actor hold.Actor, reason string, opts ...hold.TransitionOption) (*hold.Record, error)
	ApproveWithToken(ctx context.Context, hash [32]byte, role hold.Role, actor hold.Actor, reason string) (*hold.Record, error)
}

// Config are a Handler's dependencies and settings.
type Config struct {
	Store TokenStore
	// BaseURL is web.base_url, e.g. "https://sendguard.example.com/"; the
	// pages live at its path + "h/{token}", the assets at its path +
	// "static/". Its scheme and host are the only Origin a POST may have.
	BaseURL string
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of times shown; nil means UTC.
	Location *time.Location
	// CSRFKey signs the forms' CSRF tokens (32 bytes or more). Empty means
	// a random key per process: a form opened before a restart is refused
	// once, and reopening the link gives a fresh one.
	CSRFKey []byte
	// DefaultLang is used when neither the browser nor the record names a
	// supported language; empty means templates.DefaultLanguage.
	DefaultLang string
	// Preview returns the start of a held message's text, already masked
	// (templates.MaskPreview), for the confirm page; nil shows none.
	Preview func(id string) string
	// MaxFailures unknown or malformed tokens per client IP within
	// FailureWindow block that IP until the window ends; zero means 20 per
	// 10 minutes.
	MaxFailures   int
	FailureWindow time.Duration
	// ClientIP returns the client's address; nil means the connection's
	// remote address. Set it when a trusted reverse proxy is in front.
	ClientIP func(*http.Request) string
}

// Handler serves the link pages. It is safe for concurrent use.
type Handler struct {
	store    TokenStore
	basePath string
	origin   string
	log      *slog.Logger
	now      func() time.Time
	loc      *time.Location
	csrfKey  []byte
	defLang  string
	preview  func(id string) string
	lim      *ratelimit.Limiter
	clientIP func(*http.Request) string
	cat      *templates.Catalog
	pages    map[string]*template.Template
	static   map[string]asset
	mux      *http.ServeMux
}

type asset struct {
	ctype string
	body  []byte
}

// New builds the handler and parses its embedded templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("web: nil store")
	}
	base, err := webbase.ParseBase(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	key, err := webbase.Key(cfg.CSRFKey)
	if err != nil {
		return nil, fmt.Errorf("web: csrf key: %w", err)
	}
	h := &Handler{
		store: cfg.Store, basePath: base.Path, origin: base.Origin, log: cfg.Logger, now: cfg.Now,
		loc: cfg.Location, csrfKey: key, defLang: cfg.DefaultLang, preview: cfg.Preview, clientIP: cfg.ClientIP,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "web")
	if h.now == nil {
		h.now = time.Now
	}
	if h.loc == nil {
		h.loc = time.UTC
	}
	if h.defLang == "" {
		h.defLang = templates.DefaultLanguage
	}
	if !templates.Supported(h.defLang) {
		return nil, fmt.Errorf("web: unsupported default language %q", h.defLang)
	}
	if h.clientIP == nil {
		h.clientIP = webbase.RemoteIP
	}
	maxFail, win := cfg.MaxFailures, cfg.FailureWindow
	if maxFail <= 0 {
		maxFail = 20
	}
	if win <= 0 {
		win = 10 * time.Minute
	}
	h.lim = ratelimit.New(maxFail, win, 10000)
	if h.cat, err = templates.LoadCatalog(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := h.parse(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+h.basePath+"h/{token}", h.get)
	h.mux.HandleFunc("POST "+h.basePath+"h/{token}", h.post)
	h.mux.HandleFunc("GET "+h.basePath+"static/{name}", h.asset)
	h.mux.HandleFunc("/", h.notFound)
	return h, nil
}

func (h *Handler) parse() error {
	funcs := template.FuncMap{
		"size":          templates.FormatSize,
		"ackDomain":     templates.AckDomain,
		"ackAttachment": templates.AckAttachment,
		"join":          strings.Join,
	}
	h.pages = map[string]*template.Template{}
	for _, name := range []string{"confirm", "approve", "cancel", "result"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, "pages/layout.html", "pages/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse page %s: %w", name, err)
		}
		h.pages[name] = t
	}
	h.static = map[string]asset{}
	for name, ctype := range map[string]string{
		"style.css":   "text/css; charset=utf-8",
		"confirm.js":  "text/javascript; charset=utf-8",
		"favicon.svg": "image/svg+xml",
	} {
		b, err := fs.ReadFile(templates.FS, "static/"+name)
		if err == nil && name == "style.css" {
			b, err = templates.StyleSheet(b)
		}
		if err != nil {
			return fmt.Errorf("read asset: %w", err)
		}
		h.static[name] = asset{ctype: ctype, body: b}
	}
	return nil
}

// Link returns the page URL of a token's text under the base URL.
func (h *Handler) Link(token string) string { return h.origin + h.basePath + "h/" + token }

// ServeHTTP sets the security headers and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webbase.SetHeaders(w.Header(), csp)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.static[r.PathValue("name")]
	if !ok {
		h.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	_, _ = w.Write(a.body)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.result(w, r, h.lang(r, nil), http.StatusNotFound, "not_found", nil)
}
