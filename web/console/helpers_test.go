package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/sendguard/sendguard/internal/testclock"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/web/outbox"
)

// tlog sends log lines to the test's log.
type tlog struct{ t testing.TB }

func (l tlog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// testArgon keeps password hashing cheap in tests; production uses
// defaultArgon.
var testArgon = argonParams{Memory: 1024, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// env is a real spool and hold store on a temp bbolt DB behind the console
// on a loopback HTTP server.
type env struct {
	t        testing.TB
	sp       *spool.Store
	hold     *hold.Store
	h        *Handler
	srv      *httptest.Server
	clock    *testclock.Clock
	releases atomic.Int64
	secrets  map[string]string // user → TOTP secret
}

func newEnv(t testing.TB, mutate func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: testclock.New(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)), secrets: map[string]string{}}
	sp, err := spool.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	e.sp = sp
	// Outcome notices are written as the gateway's step worker writes
	// them, after the decision commits, so a test can read what the sender
	// receives.
	builder, err := notify.NewBuilder(notify.Options{From: "sendguard@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	notifier := &disposition.Notifier{Store: sp, Builder: builder, Lifetime: time.Hour}
	e.hold, err = hold.New(sp.DB(), hold.Options{
		Now: e.clock.Now,
		OnRelease: func(tx *bbolt.Tx, rec *hold.Record) error {
			e.releases.Add(1)
			return nil
		},
		OnDecided: func(tx *bbolt.Tx, rec *hold.Record, _ hold.State) error {
			tx.OnCommit(func() {
				p, err := notifier.Decided(rec, e.clock.Now())
				if errors.Is(err, notify.ErrInvalid) {
					return // as the step worker: no notice to an unusable address
				}
				if err != nil {
					t.Error(err)
					return
				}
				if err := sp.Commit(func(tx *bbolt.Tx) error {
					for _, m := range p.Mails {
						if err := spool.PutTx(tx, m); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = http.NotFoundHandler()
	var hmu sync.RWMutex
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.RLock()
		defer hmu.RUnlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	cfg := Config{
		Hold: e.hold, Spool: sp, DB: sp.DB(), BaseURL: e.srv.URL + "/", Now: e.clock.Now,
		InternalDomains: []string{"example.com"},
		// Most tests read English texts; the Japanese default is tested apart.
		DefaultLang: "en",
		Logger:      slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	e.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h.users.argon = testArgon
	hmu.Lock()
	handler = e.h
	hmu.Unlock()
	return e
}

// addUser creates an account and remembers its TOTP secret.
func (e *env) addUser(name, role string) {
	e.t.Helper()
	u, err := e.h.users.AddUser(name, role, testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets[name] = pu.Query().Get("secret")
}

// code is the TOTP code of name's secret now. Each call first moves the
// clock one step on, because a used step is refused.
func (e *env) code(name string) string {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	c, err := totp.GenerateCode(e.secrets[name], e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// client is a browser without automatic redirects.
type client struct {
	t   testing.TB
	e   *env
	c   *http.Client
	ua  string
	csr string // last CSRF token seen on a page
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, ua: "console-test", c: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type resp struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	req.Header.Set("User-Agent", c.ua)
	r, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csr = html.UnescapeString(string(m[1]))
	}
	if got := r.Header.Get("Content-Security-Policy"); got != csp && got != cspMessage && got != cspMailHTML {
		c.t.Errorf("%s %s: CSP header %q", req.Method, req.URL.Path, r.Header.Get("Content-Security-Policy"))
	}
	return resp{status: r.StatusCode, body: string(b), header: r.Header}
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// postCSRF posts form with the last CSRF token seen.
func (c *client) postCSRF(path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csr)
	return c.post(path, form)
}

// login signs in with password and TOTP and fails the test otherwise.
func (c *client) login(name string) {
	c.t.Helper()
	c.get("/console/login")
	r := c.postCSRF("/console/login", url.Values{"user": {name}, "password": {testPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/totp" {
		c.t.Fatalf("password step: %d %q", r.status, r.header.Get("Location"))
	}
	c.get("/console/totp")
	r = c.postCSRF("/console/totp", url.Values{"code": {c.e.code(name)}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("totp step: %d %s", r.status, r.body)
	}
	if r := c.get("/console/"); r.status != http.StatusOK {
		c.t.Fatalf("dashboard after login: %d", r.status)
	}
}

func (c *client) cookie() string {
	u, _ := url.Parse(c.e.srv.URL + "/console/")
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == cookieName {
			return ck.Value
		}
	}
	return ""
}

// msg describes a held message to seed.
type msg struct {
	subject   string
	sender    string
	rcpts     []rules.Recipient
	findings  []rules.Finding
	atts      []rules.Attachment
	lookalike []rules.Lookalike
	body      string // raw RFC 5322 bytes; built from subject if empty
	kind      hold.Kind
	rules     []string
	age       time.Duration
	approvers []string // an approver hold's approvers
	required  int      // and its approvals required
	standIns  map[string]string
	people    int
	items     []string
}

// seed spools a message and holds it in one commit, as the gateway does.
func (e *env) seed(m msg) string {
	e.t.Helper()
	id := spool.NewID()
	if m.sender == "" {
		m.sender = "alice@example.com"
	}
	if m.kind == "" {
		m.kind = hold.KindReview
	}
	if m.rules == nil {
		m.rules = []string{"pii-external"}
	}
	if m.rcpts == nil {
		m.rcpts = []rules.Recipient{{Address: "bob@partner.co.jp", Field: "to", Domain: "partner.co.jp", External: true, Envelope: true}}
	}
	if m.body == "" {
		m.body = "From: <" + m.sender + ">\r\nTo: <" + m.rcpts[0].Address + ">\r\nSubject: " + m.subject +
			"\r\nMessage-ID: <" + id + "@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
	}
	bw, err := e.sp.Create(id)
	if err != nil {
		e.t.Fatal(err)
	}
	bw.Write([]byte(m.body))
	sum, err := bw.Commit()
	if err != nil {
		e.t.Fatal(err)
	}
	rep := rules.Report{Findings: m.findings, Attachments: m.atts, Subject: m.subject, Sender: m.sender, People: m.people, DataItems: m.items}
	var domains, addrs []string
	ext := 0
	for _, r := range m.rcpts {
		domains, addrs = append(domains, r.Domain), append(addrs, r.Address)
		if r.External {
			ext++
		}
	}
	rep.Recipients = rules.Recipients{Total: len(m.rcpts), External: ext, List: m.rcpts, Lookalike: m.lookalike}
	rj, _ := json.Marshal(rep)
	now := e.clock.Now()
	srec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: m.sender,
		Size: int64(len(m.body)), SHA256: sum, ReceivedAt: now, ClientIP: "192.0.2.10", Expires: now.Add(72 * time.Hour)}
	for _, a := range addrs {
		srec.Rcpts = append(srec.Rcpts, spool.Rcpt{Addr: a, Status: spool.RcptPending})
	}
	hrec := &hold.Record{ID: id, Kind: m.kind, CreatedAt: now.Add(-m.age), Sender: m.sender, Subject: m.subject,
		Recipients: hold.RecipientSummary{Total: len(m.rcpts), External: ext, Domains: domains, Addresses: addrs},
		Decision:   hold.Decision{Actions: []string{"hold_review"}, Rules: m.rules}, Report: rj,
		Approvers: m.approvers, ApprovalsRequired: m.required, StandIns: m.standIns}
	err = e.sp.Accept(srec, func(tx *bbolt.Tx) error { return e.hold.CreateTx(tx, hrec, hold.System, "policy") })
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) state(id string) hold.State {
	e.t.Helper()
	r, err := e.hold.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.State
}

func (e *env) events(f hold.EventFilter) []hold.Event {
	e.t.Helper()
	ev, _, err := e.hold.EventsRange(context.Background(), f, hold.EventPage{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func mustContain(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

var _ = bytes.NewReader

// noticesTo returns the text of every notice spooled for addr.
func (e *env) noticesTo(addr string) []string {
	e.t.Helper()
	var out []string
	e.sp.ForEach(func(rec *spool.Record) bool {
		if rec.Kind != spool.KindNotice || len(rec.Rcpts) == 0 || rec.Rcpts[0].Addr != addr {
			return true
		}
		f, err := e.sp.OpenBody(rec.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		defer f.Close()
		m, err := outbox.Parse(f)
		if err != nil {
			e.t.Fatal(err)
		}
		var b strings.Builder
		for _, s := range m.Body {
			b.WriteString(s.Text)
		}
		out = append(out, m.Subject+"\n"+b.String())
		return true
	})
	return out
}
