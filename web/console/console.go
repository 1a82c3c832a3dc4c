package console

import (
	"context"
	"embed"
	"fmt"
	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/internal/webbase"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"

	"github.com/sendguard/sendguard/templates"
)

//go:embed assets
var assetsFS embed.FS

// csp allows only the console's own script and style, no inline code, no
// framing, no forms to elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Request limits.
const (
	maxFormsPerIP       = 120
	maxFormBytes        = 64 << 10
	defaultMaxUpload    = 25 << 20
	defaultMaxBodyParse = 25 << 20
)

// TestFunc analyses an uploaded message with the active policy (the
// policy page's "test a message").
type TestFunc func(ctx context.Context, r io.Reader) (*inspect.Result, error)

// Config are a Handler's dependencies and settings.
type Config struct {
	Hold  *hold.Store
	Spool *spool.Store
	// DB is the gateway's bbolt DB; the console keeps its accounts and
	// sessions there in buckets prefixed console_.
	DB *bbolt.DB
	// BaseURL is web.base_url; the console lives at its path + "console/".
	// An https base URL makes the session cookie Secure.
	BaseURL string
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of times shown; nil means UTC.
	Location *time.Location
	// DefaultLang is the console's language when neither the account, the
	// session nor the browser names one; empty means templates.DefaultLanguage.
	DefaultLang string

	// Policy is the active policy's rules, shown on the policy page.
	Policy []policy.RuleInfo
	// DataNotes describe the company's own data the analysis uses (the
	// customer list's size and import date); shown on the policy page.
	// They never carry a value.
	DataNotes []string
	// LiveNotes, when set, adds lines computed at each view (the company
	// directory's state) after DataNotes.
	LiveNotes func() []string
	// Test runs analyse + decide on an uploaded .eml; nil hides the form.
	Test TestFunc
	// Reports are the stored analysis reports: the replay page and the
	// dashboard's shadow-vs-live table read them; nil hides both.
	Reports ReportScanner
	// MaxUpload bounds an uploaded .eml; zero means 25 MiB.
	MaxUpload int64
	// InternalDomains tell internal from external recipient domains on the
	// dashboard and message view.
	InternalDomains []string

	// DisableTOTP turns off the second factor for password sign-in. It is
	// enforced by default; only a test bench should turn it off.
	DisableTOTP bool
	// TrustedProxies are the addresses of reverse proxies whose headers are
	// believed: X-Forwarded-For for the client IP and, if ProxyUserHeader
	// is set, the signed-in user name (single sign-on). Requests from any
	// other address have those headers ignored.
	TrustedProxies []netip.Prefix
	// ProxyUserHeader is the header carrying the user the proxy
	// authenticated (e.g. "X-Forwarded-User"). The name must be a local
	// account, whose role applies; empty disables proxy sign-in.
	ProxyUserHeader string
	// MaxFailuresPerIP failed sign-ins from one address, and
	// MaxFailuresPerUser for one account from one network (/24, /64), are
	// free; then each attempt waits a second, doubling up to MaxBackoff
	// (lockout.go). Zero means 20, 5 and 15 minutes.
	MaxFailuresPerIP   int
	MaxFailuresPerUser int
	MaxBackoff         time.Duration
	// SignIns keeps the failed sign-ins those back-offs count (lockout.go);
	// nil keeps them in this process. Nodes sharing PostgreSQL share them,
	// so spreading guesses over nodes buys nothing.
	SignIns SignInStore
	// Audit is the audit chain the audit page lists and verifies, the
	// outcome statistics read and console events are written to; nil
	// means Hold's. Nodes sharing PostgreSQL use the cluster's chain.
	Audit AuditLog

	// SSO signs users in with an OpenID Provider (oidc.go); nil disables it.
	SSO *SSO
	// DisableLocalLogin refuses password + TOTP sign-in (SSO only).
	DisableLocalLogin bool

	// Shared is the held queue nodes share (shared.go); nil with one node.
	Shared SharedQueue
	// Accounts keeps console accounts and sessions (accounts.go); nil
	// means this node's DB.
	Accounts Accounts
	// Incidents is the incident kit over the sent-mail record
	// (incident.go); nil hides it.
	Incidents *sent.Kit
}

// Handler serves the console. It is safe for concurrent use.
type Handler struct {
	hold    *hold.Store
	spool   *spool.Store
	shared  SharedQueue
	db      *bbolt.DB
	acc     Accounts
	users   *Users
	prefix  string // base path + "console/"
	origin  string
	secure  bool
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	defLang string
	shown   atomic.Pointer[shownPolicy] // replaced by SetPolicy
	live    func() []string
	test    TestFunc
	reports ReportScanner
	// replaySem lets one replay run at a time.
	replaySem chan struct{}
	maxUp     int64
	intern    map[string]bool
	noTOTP    bool
	proxies   []netip.Prefix
	proxyH    string
	sso       *SSO
	noLocal   bool
	auditLog  AuditLog
	ipLim     Backoff            // by client IP
	userLim   Backoff            // by account and client network
	formLim   *ratelimit.Limiter // sign-in forms (new sessions) per IP
	cat       catalog
	pages     pageSet
	static    map[string]asset
	mux       *http.ServeMux

	sanitize *bluemonday.Policy
	kit      *sent.Kit

	dashMu sync.Mutex
	dash   map[string]*dashboard // by language, each kept for dashTTL
}

type asset struct {
	ctype string
	body  []byte
}

// shownPolicy is the policy in force, as the policy page shows it.
type shownPolicy struct {
	rules []policy.RuleInfo
	notes []string
}

// SetPolicy replaces the policy page's rules and notes when a reload puts
// a new policy in force.
func (h *Handler) SetPolicy(rules []policy.RuleInfo, notes []string) {
	h.shown.Store(&shownPolicy{rules: rules, notes: notes})
}

// New builds the handler, creating its buckets and parsing its templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Hold == nil || cfg.DB == nil {
		return nil, fmt.Errorf("console: hold store and db are required")
	}
	base, err := webbase.ParseBase(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	h := &Handler{
		hold: cfg.Hold, spool: cfg.Spool, db: cfg.DB, shared: cfg.Shared,
		prefix: base.Path + "console/", origin: base.Origin, secure: base.Secure,
		log: cfg.Logger, now: cfg.Now, loc: cfg.Location, defLang: cfg.DefaultLang, live: cfg.LiveNotes, test: cfg.Test,
		reports: cfg.Reports, replaySem: make(chan struct{}, 1),
		maxUp: cfg.MaxUpload, noTOTP: cfg.DisableTOTP, proxies: cfg.TrustedProxies, proxyH: cfg.ProxyUserHeader,
		intern: map[string]bool{}, dash: map[string]*dashboard{}, sso: cfg.SSO, noLocal: cfg.DisableLocalLogin,
		kit: cfg.Incidents,
	}
	if h.noLocal && h.sso == nil {
		return nil, fmt.Errorf("console: local sign-in disabled without single sign-on")
	}
	h.SetPolicy(cfg.Policy, cfg.DataNotes)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "console")
	if h.now == nil {
		h.now = time.Now
	}
	if !templates.Supported(h.defLang) {
		h.defLang = templates.DefaultLanguage
	}
	if h.loc == nil {
		h.loc = time.UTC
	}
	if h.maxUp <= 0 {
		h.maxUp = defaultMaxUpload
	}
	for _, d := range cfg.InternalDomains {
		h.intern[strings.ToLower(strings.TrimSpace(d))] = true
	}
	if h.proxyH != "" && len(h.proxies) == 0 {
		return nil, fmt.Errorf("console: proxy user header set without trusted proxies")
	}
	h.ipLim, h.userLim = newSignInLimits(cfg)
	if h.auditLog = cfg.Audit; h.auditLog == nil {
		h.auditLog = cfg.Hold
	}
	// Every sign-in form is a stored session: bound how fast one address
	// can create them.
	h.formLim = ratelimit.New(maxFormsPerIP, 10*time.Minute, 10000)
	if h.acc = cfg.Accounts; h.acc == nil {
		if h.acc, err = NewBoltAccounts(cfg.DB); err != nil {
			return nil, err
		}
	}
	h.users = NewUsersIn(h.acc, "", h.now)
	if h.cat, err = loadCatalog(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if h.pages, err = parsePages(h); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if h.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	h.sanitize = newSanitizer()
	h.routes()
	return h, nil
}

// Users returns the account manager sharing the console's DB.
func (h *Handler) Users() *Users { return h.users }

// Prefix is the path the console is mounted at, ending in "/".
func (h *Handler) Prefix() string { return h.prefix }

func (h *Handler) routes() {
	p := h.prefix
	m := http.NewServeMux()
	m.HandleFunc("GET "+p+"static/{name}", h.asset)
	m.HandleFunc("GET "+p+"login", h.loginForm)
	m.HandleFunc("POST "+p+"login", h.loginPost)
	m.HandleFunc("GET "+p+"totp", h.totpForm)
	m.HandleFunc("POST "+p+"totp", h.totpPost)
	m.HandleFunc("POST "+p+"logout", h.action(RoleViewer, h.logout))
	if h.sso != nil {
		m.HandleFunc("POST "+p+"sso/start", h.ssoStart)
		m.HandleFunc("GET "+p+"sso/callback", h.ssoCallback)
	}
	m.HandleFunc("POST "+p+"lang", h.action(RoleViewer, h.setLang))

	m.HandleFunc("GET "+p+"{$}", h.page(RoleViewer, h.dashboardPage))
	m.HandleFunc("GET "+p+"queue", h.page(RoleViewer, h.queuePage))
	m.HandleFunc("GET "+p+"msg/{id}", h.page(RoleViewer, h.messagePage))
	m.HandleFunc("GET "+p+"msg/{id}/att/{n}", h.page(RoleAdmin, h.attachment))
	m.HandleFunc("GET "+p+"msg/{id}/html", h.page(RoleViewer, h.mailHTML))
	m.HandleFunc("POST "+p+"msg/{id}/release", h.action(RoleReviewer, h.release))
	m.HandleFunc("POST "+p+"msg/{id}/reject", h.action(RoleReviewer, h.reject))
	m.HandleFunc("POST "+p+"bulk", h.action(RoleReviewer, h.bulk))
	m.HandleFunc("GET "+p+"audit", h.page(RoleViewer, h.auditPage))
	m.HandleFunc("GET "+p+"audit/export", h.page(RoleViewer, h.auditExport))
	m.HandleFunc("POST "+p+"audit/verify", h.action(RoleAdmin, h.auditVerify))
	m.HandleFunc("GET "+p+"policy", h.page(RoleViewer, h.policyPage))
	m.HandleFunc("POST "+p+"policy/test", h.action(RoleReviewer, h.policyTest))
	m.HandleFunc("GET "+p+"replay", h.page(RoleViewer, h.replayPage))
	m.HandleFunc("POST "+p+"replay", h.action(RoleViewer, h.replayRun))
	m.HandleFunc("GET "+p+"outcomes", h.page(RoleViewer, h.outcomesPage))
	h.incidentRoutes(m, p)
	m.HandleFunc("/", h.notFound)
	h.mux = m
}

// ServeHTTP sets the security headers and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	webbase.SetHeaders(hd, csp)
	if h.secure {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.static[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(a.body)
}

// trustedPeer reports whether the connection comes from a trusted proxy.
func (h *Handler) trustedPeer(r *http.Request) bool {
	if len(h.proxies) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(webbase.RemoteIP(r))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range h.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the connection's address, or the proxy's last
// X-Forwarded-For hop when a trusted proxy connects.
func (h *Handler) clientIP(r *http.Request) string {
	if h.trustedPeer(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return ip.String()
			}
		}
	}
	return webbase.RemoteIP(r)
}
