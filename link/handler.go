package link

import (
	"context"
	"fmt"
	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/internal/webbase"
	"github.com/sendguard/sendguard/templates"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// csp allows only this handler's stylesheet: the pages have no script at
// all, and no inline style.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// fileCSP is sent with downloads: should a browser ever render one, it
// runs sandboxed with nothing allowed.
const fileCSP = "sandbox; default-src 'none'"

// maxFormBytes bounds a POST body; the forms carry a token and a code.
const maxFormBytes = 4 << 10

// Mailer hands a finished mail for one recipient to the gateway, which
// queues it like a notice.
type Mailer func(ctx context.Context, to string, msg []byte) error

// Config are a Handler's dependencies and settings.
type Config struct {
	Store Storage
	// BaseURL is web.base_url; the pages live under its path + "d/".
	// Its scheme and host are the only Origin a POST may have.
	BaseURL string
	// Mailer sends code mails; From is their sender address.
	Mailer Mailer
	From   string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of times shown; nil means UTC.
	Location *time.Location
	// Secret keys the CSRF and session MACs (32 bytes or more). Empty
	// means a random key per process: a restart ends download sessions.
	Secret []byte
	// DefaultLang is used when the browser names no supported language;
	// empty means templates.DefaultLanguage.
	DefaultLang string
	// SessionTTL is how long a verified browser may download (30 minutes).
	SessionTTL time.Duration
	// MaxFailures unknown tokens or wrong codes per client IP within
	// FailureWindow block that IP until the window ends (20 per 10 minutes).
	MaxFailures   int
	FailureWindow time.Duration
	// ClientIP returns the client's address; nil means the connection's
	// remote address. Set it when a trusted reverse proxy is in front.
	ClientIP func(*http.Request) string
}

// Handler serves the download and revocation pages under BASE/d/. It is
// safe for concurrent use.
type Handler struct {
	store      Storage
	basePath   string // ends in "/"
	origin     string
	secure     bool
	mailer     Mailer
	from       string
	log        *slog.Logger
	now        func() time.Time
	loc        *time.Location
	secret     []byte
	defLang    string
	sessionTTL time.Duration
	lim        *ratelimit.Limiter
	clientIP   func(*http.Request) string
	cat        catalog
	pages      map[string]*template.Template
	static     map[string]asset
}

type asset struct {
	ctype string
	body  []byte
}

// NewHandler builds the handler and parses its embedded templates.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Mailer == nil {
		return nil, fmt.Errorf("link: handler needs a store and a mailer")
	}
	if _, err := headerAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("link: code mail sender: %w", err)
	}
	base, err := webbase.ParseBase(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	secret, err := webbase.Key(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("link: secret: %w", err)
	}
	h := &Handler{
		store: cfg.Store, basePath: base.Path, origin: base.Origin, secure: base.Secure,
		mailer: cfg.Mailer, from: cfg.From, log: cfg.Logger, now: cfg.Now, loc: cfg.Location,
		secret: secret, defLang: cfg.DefaultLang, sessionTTL: cfg.SessionTTL, clientIP: cfg.ClientIP,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "link")
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
		return nil, fmt.Errorf("link: unsupported default language %q", h.defLang)
	}
	if h.sessionTTL <= 0 {
		h.sessionTTL = 30 * time.Minute
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
	if h.cat, err = loadCatalog(); err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	if err := h.parse(); err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	return h, nil
}

func (h *Handler) parse() error {
	h.pages = map[string]*template.Template{}
	for _, name := range []string{"download", "revoke", "result"} {
		t, err := template.New(name).ParseFS(assets, "assets/layout.html", "assets/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse page %s: %w", name, err)
		}
		h.pages[name] = t
	}
	h.static = map[string]asset{}
	for name, ctype := range map[string]string{"style.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"} {
		b, err := assets.ReadFile("assets/" + name)
		if err == nil && name == "style.css" {
			b, err = templates.StyleSheet(b) // the look shared with the sender pages
		}
		if err != nil {
			return fmt.Errorf("read asset: %w", err)
		}
		h.static[name] = asset{ctype: ctype, body: b}
	}
	return nil
}

// Prefix is the path the gateway mounts the handler on: base path + "d/".
func (h *Handler) Prefix() string { return h.basePath + "d/" }

func (h *Handler) linkPath(tok string) string { return h.basePath + "d/" + tok }

// Link is a recipient's download URL for a token's text.
func (h *Handler) Link(tok string) string { return h.origin + h.linkPath(tok) }

// RevokeLink is the sender's page URL for a revocation token's text.
func (h *Handler) RevokeLink(tok string) string { return h.origin + h.basePath + "d/revoke/" + tok }

// NoteLinks are the recipients' download URLs of a created package, for
// NoteText.
func (h *Handler) NoteLinks(c *Created) []NoteLink {
	out := make([]NoteLink, 0, len(c.Links))
	for _, l := range c.Links {
		out = append(out, NoteLink{Recipient: l.Recipient, URL: h.Link(l.Token.Text())})
	}
	return out
}

// ServeHTTP sets the security headers and routes:
//
//	GET  d/static/{style.css,favicon.svg}
//	GET  d/{token}             package page (never changes anything)
//	POST d/{token}             action=send_code: mail a one-time code
//	POST d/{token}/verify      code: start a download session
//	GET  d/{token}/file/{n}    download file n (session needed)
//	GET  d/revoke/{token}      sender's page: status and download log
//	POST d/revoke/{token}      withdraw the link
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	webbase.SetHeaders(hd, csp)

	rest, ok := strings.CutPrefix(r.URL.Path, h.Prefix())
	if !ok {
		h.result(w, r, "", http.StatusNotFound, "not_found")
		return
	}
	seg := strings.Split(rest, "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case len(seg) == 2 && seg[0] == "static" && h.static[seg[1]].body != nil && get:
		a := h.static[seg[1]]
		hd.Set("Content-Type", a.ctype)
		hd.Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(a.body)
	case len(seg) == 2 && seg[0] == "revoke" && get:
		h.revokePage(w, r, seg[1])
	case len(seg) == 2 && seg[0] == "revoke" && post:
		h.revokePost(w, r, seg[1])
	case len(seg) == 1 && get:
		h.packagePage(w, r, seg[0])
	case len(seg) == 1 && post:
		h.sendCode(w, r, seg[0])
	case len(seg) == 2 && seg[1] == "verify" && post:
		h.verify(w, r, seg[0])
	case len(seg) == 3 && seg[1] == "file" && get:
		h.download(w, r, seg[0], seg[2])
	case len(seg) >= 1 && len(seg) <= 3 && seg[0] != "":
		hd.Set("Allow", "GET, POST")
		h.result(w, r, "", http.StatusMethodNotAllowed, "not_found")
	default:
		h.result(w, r, "", http.StatusNotFound, "not_found")
	}
}
