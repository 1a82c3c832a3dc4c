package link

import (
	"bytes"
	"context"
	"github.com/sendguard/sendguard/internal/testclock"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/hold"
)

// sentMail is a code mail captured from the handler's Mailer.
type sentMail struct {
	To  string
	Msg []byte
}

// env is a real link store (and a hold store for its audit events) on a
// temp bbolt DB, behind the handler on a loopback HTTP server.
type env struct {
	t     testing.TB
	db    *bbolt.DB
	dir   string
	key   *atrest.MasterKey
	audit *hold.Store
	store *Store
	h     *Handler
	srv   *httptest.Server
	clock *testclock.Clock

	mu       sync.Mutex
	mails    []sentMail
	mailFail error
}

func newEnv(t testing.TB, mutate func(*Options, *Config)) *env {
	t.Helper()
	e := &env{t: t, clock: testclock.New(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))}
	tmp := t.TempDir()
	db, err := bbolt.Open(filepath.Join(tmp, "sendguard.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	if e.audit, err = hold.New(db, hold.Options{Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if e.key, err = LoadOrCreateKey(filepath.Join(tmp, KeyFile)); err != nil {
		t.Fatal(err)
	}
	e.dir = filepath.Join(tmp, "links")
	opts := Options{Audit: e.audit, Now: e.clock.Now}
	var handler http.Handler = http.NotFoundHandler()
	var hmu sync.RWMutex
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.RLock()
		defer hmu.RUnlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	cfg := Config{
		BaseURL: e.srv.URL + "/", From: "sendguard@example.com", Now: e.clock.Now,
		// The flow tests read English texts; the default is tested apart.
		DefaultLang: "en",
		Mailer: func(ctx context.Context, to string, msg []byte) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.mailFail != nil {
				return e.mailFail
			}
			e.mails = append(e.mails, sentMail{To: to, Msg: msg})
			return nil
		},
	}
	if mutate != nil {
		mutate(&opts, &cfg)
	}
	if e.store, err = New(db, e.dir, e.key, opts); err != nil {
		t.Fatal(err)
	}
	cfg.Store = e.store
	if e.h, err = NewHandler(cfg); err != nil {
		t.Fatal(err)
	}
	hmu.Lock()
	handler = e.h
	hmu.Unlock()
	return e
}

// pkg is a package of two files for two recipients, valid for a week.
func (e *env) pkg(files ...FileIn) Package {
	if len(files) == 0 {
		files = []FileIn{
			{Name: "見積書 2026.pdf", Type: "application/pdf", Reader: strings.NewReader("%PDF-1.4 見積書の中身 quote body\n")},
			{Name: `<b onmouseover="x">"evil".csv`, Type: "text/csv; charset=utf-8", Reader: strings.NewReader("a,b\n1,2\n")},
		}
	}
	return Package{
		MessageID: "<m1@example.com>", Sender: "taro@example.com",
		Recipients: []string{"alice@partner.co.jp", "bob@other.example"},
		Subject:    "見積書の送付 <script>alert(1)</script>", Expires: e.clock.Now().Add(7 * 24 * time.Hour),
		Files: files,
	}
}

func (e *env) create(p Package) *Created {
	e.t.Helper()
	c, err := e.store.Create(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) lastMail() sentMail {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.mails) == 0 {
		e.t.Fatal("no mail sent")
	}
	return e.mails[len(e.mails)-1]
}

func (e *env) mailCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.mails)
}

// client is a browser: a cookie jar, no redirects followed unless asked.
type client struct {
	e    *env
	http *http.Client
	ua   string
}

func (e *env) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, ua: "link-test/1.0", http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", c.ua)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string) resp { return c.do(http.MethodGet, path, nil, nil) }

func (c *client) post(path string, form url.Values) resp {
	return c.do(http.MethodPost, path, form, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf opens a page and returns its form's CSRF token.
func (c *client) csrf(path string) string {
	c.e.t.Helper()
	r := c.get(path)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		c.e.t.Fatalf("no csrf token on %s (status %d)", path, r.status)
	}
	return m[1]
}

// requestCode posts "send me a code" and returns the code from the mail.
func (c *client) requestCode(tok string) string {
	c.e.t.Helper()
	csrf := c.csrf("/d/" + tok)
	n := c.e.mailCount()
	r := c.post("/d/"+tok, url.Values{"csrf": {csrf}, "action": {"send_code"}})
	if r.status != http.StatusOK || c.e.mailCount() != n+1 {
		c.e.t.Fatalf("send code: status %d, mails %d", r.status, c.e.mailCount())
	}
	return codeFromMail(c.e.t, c.e.lastMail().Msg)
}

// verify posts a code and reports the response.
func (c *client) verify(tok, code string) resp {
	c.e.t.Helper()
	csrf := c.csrf("/d/" + tok)
	return c.post("/d/"+tok+"/verify", url.Values{"csrf": {csrf}, "code": {code}})
}

// login runs the whole code flow and checks it gave a session.
func (c *client) login(tok string) {
	c.e.t.Helper()
	r := c.verify(tok, c.requestCode(tok))
	if r.status != http.StatusSeeOther {
		c.e.t.Fatalf("verify: status %d: %s", r.status, r.body)
	}
}

var codeRE = regexp.MustCompile(`\b(\d{4}) (\d{4})\b`)

// codeFromMail parses a code mail and returns the code in its text part.
func codeFromMail(t testing.TB, msg []byte) string {
	t.Helper()
	text, _ := mailParts(t, msg)
	m := codeRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no code in mail text:\n%s", text)
	}
	return m[1] + m[2]
}

// mailParts checks a code mail's structure and returns its decoded parts.
func mailParts(t testing.TB, msg []byte) (text, html string) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in mail")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("part encoding %q", p.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		mt, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch {
		case !strings.EqualFold(params["charset"], "utf-8"):
			t.Fatalf("part charset %q", params["charset"])
		case mt == "text/plain":
			text = string(b)
		case mt == "text/html":
			html = string(b)
		default:
			t.Fatalf("part type %q", p.Header.Get("Content-Type"))
		}
	}
	if text == "" || html == "" {
		t.Fatal("mail lacks a text or HTML part")
	}
	return text, html
}
