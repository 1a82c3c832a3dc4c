package web

import (
	"context"
	"encoding/json"
	"github.com/sendguard/sendguard/internal/testclock"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// env is a real hold store on a temp bbolt DB behind the handler on a
// loopback HTTP server.
type env struct {
	t        testing.TB
	store    *hold.Store
	h        *Handler
	srv      *httptest.Server
	clock    *testclock.Clock
	releases atomic.Int64
	mu       sync.Mutex
	modes    []hold.ReleaseMode
}

func newEnv(t testing.TB, mutate func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: testclock.New(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))}
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "sendguard.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.store, err = hold.New(db, hold.Options{
		Now: e.clock.Now,
		OnRelease: func(tx *bbolt.Tx, rec *hold.Record) error {
			e.releases.Add(1)
			e.mu.Lock()
			e.modes = append(e.modes, rec.Mode)
			e.mu.Unlock()
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
	// Most tests read English texts; the Japanese default is tested apart.
	cfg := Config{Store: e.store, BaseURL: e.srv.URL + "/", Now: e.clock.Now, DefaultLang: "en",
		Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))}
	if mutate != nil {
		mutate(&cfg)
	}
	e.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hmu.Lock()
	handler = e.h
	hmu.Unlock()
	return e
}

// holdMsg creates a held message of kind with the given report and
// returns its ID.
func (e *env) holdMsg(id string, kind hold.Kind, rep *rules.Report, ruleNames ...string) string {
	e.t.Helper()
	raw, err := json.Marshal(rep)
	if err != nil {
		e.t.Fatal(err)
	}
	rec := &hold.Record{
		ID: id, Kind: kind, Sender: "taro@example.com", Subject: rep.Subject,
		Deadline: e.clock.Now().Add(24 * time.Hour),
		Decision: hold.Decision{Actions: []string{"hold_sender"}, Rules: ruleNames},
		Report:   raw, Approvers: []string{"boss@example.com"},
	}
	if err := e.store.Create(context.Background(), rec, hold.System, "policy"); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// token adds a link token for id with role and returns its text.
func (e *env) token(id string, role hold.Role, ttl time.Duration) string {
	e.t.Helper()
	text, hash, err := NewToken()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddToken(context.Background(), hold.Token{Hash: hash, MessageID: id, Role: role, Expires: e.clock.Now().Add(ttl)}); err != nil {
		e.t.Fatal(err)
	}
	return text
}

func (e *env) url(tok string) string { return e.srv.URL + "/h/" + tok }

func (e *env) record(id string) *hold.Record {
	e.t.Helper()
	r, err := e.store.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) events(id string) int {
	e.t.Helper()
	ev, err := e.store.Events(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ev)
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

func (e *env) get(u string, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// post submits form to u as a same-origin browser would, plus hdr.
func (e *env) post(u string, form url.Values, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", "sendguard-test/1")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return e.do(req)
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	ackRE  = regexp.MustCompile(`name="ack" value="([^"]+)"`)
)

// form reads the page at u and returns its CSRF token and every ack box.
func (e *env) form(u string) (csrf string, acks []string) {
	e.t.Helper()
	r := e.get(u)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET page: %d\n%s", r.status, r.body)
	}
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		e.t.Fatalf("no csrf field in page")
	}
	for _, a := range ackRE.FindAllStringSubmatch(r.body, -1) {
		acks = append(acks, htmlUnescape(a[1]))
	}
	return m[1], acks
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func values(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// sampleReport has two external domains (one a look-alike), an internal
// one and one attachment with a finding.
func sampleReport() *rules.Report {
	return &rules.Report{
		Subject: "お見積り",
		Recipients: rules.Recipients{
			Total: 3, External: 2, VisibleExternal: 2,
			VisibleExternalDomains: []string{"partner.co.jp", "exarnple.com"},
			ExternalDomains:        []string{"partner.co.jp", "exarnple.com"},
			Lookalike:              []rules.Lookalike{{Address: "suzuki@exarnple.com", Resembles: "example.com"}},
			List: []rules.Recipient{
				{Address: "yamada@partner.co.jp", Name: "山田 花子", Field: "to", Domain: "partner.co.jp", External: true, Envelope: true},
				{Address: "suzuki@exarnple.com", Field: "cc", Domain: "exarnple.com", External: true, Envelope: true},
				{Address: "boss@example.com", Field: "cc", Domain: "example.com", Envelope: true},
			},
		},
		Findings: []rules.Finding{
			{Detector: "mynumber", Count: 2, Location: "attachment:顧客.csv", Samples: []string{"1234********"}, Values: []string{"123456789018"}},
		},
		Attachments: []rules.Attachment{{Name: "顧客.csv", Location: "attachment:顧客.csv", Type: "text/csv", Size: 2048}},
	}
}

// massReport shows 12 external addresses in 6 domains.
func massReport() *rules.Report {
	rep := &rules.Report{Subject: "ご案内"}
	for i := range 12 {
		d := []string{"a.example.net", "b.example.net", "c.example.net", "d.example.net", "e.example.net", "f.example.net"}[i%6]
		rep.Recipients.List = append(rep.Recipients.List, rules.Recipient{
			Address: "user" + string(rune('a'+i)) + "@" + d, Field: "to", Domain: d, External: true, Envelope: true,
		})
	}
	rep.Recipients.VisibleExternal = 12
	rep.Recipients.VisibleExternalDomains = []string{"a.example.net", "b.example.net", "c.example.net", "d.example.net", "e.example.net", "f.example.net"}
	return rep
}

func newServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// testLog sends the handler's log to the test's output.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
