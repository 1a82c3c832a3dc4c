package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"

	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/internal/pgtest"
)

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`secret=([A-Z2-7]+)`)
)

// consoleUser adds a reviewer on in and returns its TOTP secret.
func consoleUser(t *testing.T, in *instance, name string) string {
	t.Helper()
	cmd := exec.Command(sendguardBin(t), "user", "add", name, "-role", "reviewer", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	out, err := cmd.CombinedOutput()
	m := secretRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	return string(m[1])
}

// consoleClient is a signed-in browser session on in's console, driven
// over HTTP: sign-in form, password, TOTP code.
type consoleClient struct {
	t    *testing.T
	c    *http.Client
	base string
}

func consoleLogin(t *testing.T, in *instance, name, secret string) *consoleClient {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cc, page := consoleSignIn(t, in, name, code)
	if cc == nil {
		t.Fatalf("sign-in on %s refused:\n%.600s", in.web, page)
	}
	return cc
}

// consoleSignIn signs in with a given TOTP code: the client when the
// console took it, else nil and the page it answered.
func consoleSignIn(t *testing.T, in *instance, name, code string) (*consoleClient, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, base: "http://" + in.web + "/console/",
		c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	_, page := cc.get("login")
	cc.post("login", url.Values{"csrf": {cc.csrf(page)}, "user": {name}, "password": {"a long enough passphrase"}})
	_, page = cc.get("totp")
	st, page := cc.post("totp", url.Values{"csrf": {cc.csrf(page)}, "code": {code}})
	if st != 200 || !strings.Contains(page, `id="signout"`) {
		return nil, page
	}
	return cc, page
}

// on is a client for in's console carrying cc's cookies: the same browser
// session presented to another node.
func (cc *consoleClient) on(in *instance) *consoleClient {
	from, _ := url.Parse(cc.base)
	to, _ := url.Parse("http://" + in.web + "/console/")
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(to, cc.c.Jar.Cookies(from))
	return &consoleClient{t: cc.t, base: to.String(), c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (cc *consoleClient) csrf(page string) string {
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		cc.t.Fatalf("no CSRF token on the page:\n%.600s", page)
	}
	return m[1]
}

func (cc *consoleClient) get(path string) (int, string) {
	cc.t.Helper()
	resp, err := cc.c.Get(cc.base + path)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (cc *consoleClient) post(path string, f url.Values) (int, string) {
	cc.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, cc.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.TrimSuffix(strings.TrimSuffix(cc.base, "/console/"), "/"))
	resp, err := cc.c.Do(req)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestClusterConsole: an account added on node A signs in on node B and
// its session is valid on both; a mail held on node A is listed, shown (body read
// from PostgreSQL) and released on node B's console, once; a second
// release from the console says it is decided; while PostgreSQL is down
// the console says so.
func TestClusterConsole(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDB(t)
	sk := startSink(t)
	a, b := startNodes(t, dsn, sk.Addr, nil)
	// An account added on A signs in on B; B's session is valid on A; the
	// TOTP code B took is refused on A.
	secret := consoleUser(t, a, "secteam")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cc, page := consoleSignIn(t, b, "secteam", code)
	if cc == nil {
		t.Fatalf("an account added on A does not sign in on B:\n%.800s", page)
	}
	if st, page := cc.on(a).get(""); st != 200 || !strings.Contains(page, `id="signout"`) {
		t.Fatalf("B's session on A: %d\n%.800s", st, page)
	}
	if again, _ := consoleSignIn(t, a, "secteam", code); again != nil {
		t.Fatal("a TOTP code used on B was taken again on A")
	}
	if out, err := b.cli("user", "list"); err != nil || !strings.Contains(out, "secteam") {
		t.Fatalf("user list on B: %v\n%s", err, out)
	}

	to := massRcpts("cons")
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "cons", "newsletter from A")); err != nil {
		t.Fatal(err)
	}
	id := heldID(t, dsn, "cons")
	if st, page := cc.get("queue"); st != 200 || !strings.Contains(page, "msg/"+id) || !strings.Contains(page, "test cons") {
		t.Fatalf("B's queue page does not list the mail held on A (%s): %d\n%s", id, st, page)
	}
	// The queue's filters apply to the shared store's records.
	for q, want := range map[string]bool{"queue?domain=customer0.test": true, "queue?sender=alice@example.com&kind=sender": true,
		"queue?domain=elsewhere.test": false, "queue?sender=bob@example.com": false, "queue?kind=review": false,
		"queue?detector=mynumber": false, "queue?state=released": false} {
		if _, page := cc.get(q); strings.Contains(page, "msg/"+id) != want {
			t.Errorf("%s lists %s: %v, want %v", q, id, !want, want)
		}
	}
	// (in English: the Japanese dashboard of the sign-in is cached a minute)
	if _, page := cc.get("?lang=en"); !strings.Contains(page, `queue?state=held"><b>1</b>`) || !strings.Contains(page, `kind=sender"><b>1</b>`) {
		t.Fatalf("B's dashboard does not count the mail held on A:\n%s", page)
	}
	if strings.Contains(func() string { _, p := cc.get("queue"); return p }(), `id="shared-down"`) {
		t.Fatal("outage banner while PostgreSQL answers")
	}
	st, page := cc.get("msg/" + id)
	if st != 200 || !strings.Contains(page, "c0-cons@customer0.test") || !strings.Contains(page, "newsletter from A") {
		t.Fatalf("B's message page of the mail held on A: %d\n%s", st, page)
	}
	f := url.Values{"csrf": {cc.csrf(page)}, "confirm": {"1"}, "reason": {"checked on B"}}
	if st, page := cc.post("msg/"+id+"/release", f); st != 200 || !strings.Contains(page, "flash ok") {
		t.Fatalf("release from B's console: %d\n%.800s", st, page)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "cons") > 0 })
	if out, err := a.cli("queue", "release", id); err == nil || !strings.Contains(out, "already released") {
		t.Fatalf("release on A after B's console: %v\n%s", err, out)
	}
	if st, page := cc.post("msg/"+id+"/release", f); st != http.StatusConflict {
		t.Fatalf("second release from the console: %d\n%.800s", st, page)
	}
	if out, err := a.cli("queue", "history", id); err != nil || !strings.Contains(out, "secteam") || !strings.Contains(out, "checked on B") {
		t.Fatalf("history on A of the console's release on B: %v\n%s", err, out)
	}
	time.Sleep(time.Second) // a second copy would arrive within this
	if n := delivered(sk, "cons"); n != 1 {
		t.Fatalf("delivered %d times", n)
	}

	// The database down: the console says so (on the sign-in page, as the
	// sessions are in the database too); back: it does not, and the
	// session still holds.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, page := cc.get("queue"); !strings.Contains(page, `id="shared-down"`) {
		t.Fatalf("no outage banner with PostgreSQL down:\n%.1500s", page)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { _, p := cc.get("queue"); return !strings.Contains(p, `id="shared-down"`) })
	if _, page := cc.get("queue"); !strings.Contains(page, `id="signout"`) {
		t.Fatalf("the session did not survive the outage:\n%.800s", page)
	}
}

// TestBrowserClusterConsole drives e2e/cluster.mjs in Chromium: on node
// B's console, the account added on node A signs in, the mail held on A
// is listed and shown (body from PostgreSQL) and released; it arrives once.
func TestBrowserClusterConsole(t *testing.T) {
	node, script := browsertest.Script(t, "cluster.mjs")
	dsn := pgtest.New(t)
	sk := startSink(t)
	a, b := startNodes(t, dsn, sk.Addr, nil)
	secret := consoleUser(t, a, "secteam")
	to := massRcpts("e2e")
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "e2e", "quarterly newsletter held on A")); err != nil {
		t.Fatal(err)
	}
	heldID(t, dsn, "e2e")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	shots := browsertest.Artifacts(t, "cluster-console")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "CONSOLE_URL=http://"+b.web+"/console/",
		"CONSOLE_USER=secteam", "CONSOLE_PASSWORD=a long enough passphrase", "CONSOLE_CODE="+code,
		"HELD_SUBJECT=test e2e", "HELD_BODY=quarterly newsletter held on A",
		"ARTIFACTS="+shots, "USER_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("cluster.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("cluster.mjs: %v", err)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "e2e") > 0 })
	time.Sleep(time.Second)
	if n := delivered(sk, "e2e"); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
}

// TestClusterRecipientHistory: a domain node A delivered to is no longer
// first-time for mail node B analyses.
func TestClusterRecipientHistory(t *testing.T) {
	dsn := pgtest.New(t)
	sk := startSink(t)
	a, b := startNodes(t, dsn, sk.Addr, nil)
	firstTime := func(tag string) []string {
		t.Helper()
		to := append(massRcpts(tag), "y@newpartner.test")
		if err := sendMail(b.smtp, "alice@example.com", to, testMessage("alice@example.com", to, tag, "newsletter")); err != nil {
			t.Fatal(err)
		}
		id := heldID(t, dsn, tag)
		out, err := b.cli("queue", "show", id, "-json")
		var rec struct {
			Report struct {
				Recipients struct {
					FirstTime []string `json:"first_time_domains"`
				} `json:"recipients"`
			} `json:"report"`
		}
		if err != nil || json.Unmarshal([]byte(out), &rec) != nil {
			t.Fatalf("queue show: %v\n%s", err, out)
		}
		return rec.Report.Recipients.FirstTime
	}
	if ft := firstTime("before"); !slices.Contains(ft, "newpartner.test") || !slices.Contains(ft, "customer0.test") {
		t.Fatalf("first-time domains before any delivery: %q", ft)
	}
	plain := []string{"x@newpartner.test"}
	if err := sendMail(a.smtp, "alice@example.com", plain, testMessage("alice@example.com", plain, "plain", "hello")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "plain") == 1 })
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	waitFor(t, 15*time.Second, func() bool {
		var node string
		return c.QueryRow(ctx, `SELECT node FROM known_domains WHERE domain = 'newpartner.test'`).Scan(&node) == nil && node == "node-a"
	})
	if ft := firstTime("after"); slices.Contains(ft, "newpartner.test") || !slices.Contains(ft, "customer0.test") {
		t.Fatalf("first-time domains on B after A delivered to newpartner.test: %q", ft)
	}
}
