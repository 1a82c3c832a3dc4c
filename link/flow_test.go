package link

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/token"
)

func TestFullFlow(t *testing.T) {
	e := newEnv(t, nil)
	big := make([]byte, 300<<10+17) // several chunks and a short last one
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	p := e.pkg(
		FileIn{Name: "見積書 2026.pdf", Type: "application/pdf", Reader: strings.NewReader(string(big))},
		FileIn{Name: `<b onmouseover="x">"evil".csv`, Type: "text/csv; charset=utf-8", Reader: strings.NewReader("a,b\n1,2\n")},
	)
	c := e.create(p)
	if len(c.Links) != 2 || c.Links[0].Recipient != "alice@partner.co.jp" {
		t.Fatalf("links %+v", c.Links)
	}
	tok := c.Links[0].Token.Text()
	b := e.client()

	page := b.get("/d/" + tok)
	if page.status != http.StatusOK {
		t.Fatalf("page status %d", page.status)
	}
	for _, want := range []string{"taro@example.com", "見積書 2026.pdf", "&lt;b onmouseover=&#34;x&#34;&gt;&#34;evil&#34;.csv",
		"&lt;script&gt;alert(1)&lt;/script&gt;", `value="send_code"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "<b onmouseover") || strings.Contains(page.body, "<script>") || strings.Contains(page.body, "/file/0") {
		t.Error("page shows unescaped text or download links before verification")
	}

	code := b.requestCode(tok)
	m := e.lastMail()
	if m.To != "alice@partner.co.jp" {
		t.Errorf("code mailed to %q", m.To)
	}
	r := b.verify(tok, code)
	if r.status != http.StatusSeeOther {
		t.Fatalf("verify status %d: %s", r.status, r.body)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/d/" + tok} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	page = b.get("/d/" + tok)
	if !strings.Contains(page.body, "/d/"+tok+"/file/0") || !strings.Contains(page.body, `id="ready"`) {
		t.Fatalf("verified page lacks download links")
	}

	f := b.get("/d/" + tok + "/file/0")
	if f.status != http.StatusOK || f.body != string(big) {
		t.Fatalf("download status %d, %d bytes, want %d", f.status, len(f.body), len(big))
	}
	for k, want := range map[string]string{
		"Content-Disposition":     `attachment; filename="___ 2026.pdf"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8%202026.pdf`,
		"Content-Type":            "application/pdf",
		"Content-Length":          "307217",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": fileCSP,
	} {
		if got := f.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	f = b.get("/d/" + tok + "/file/1")
	if f.body != "a,b\n1,2\n" || f.header.Get("Content-Type") != "text/csv" {
		t.Errorf("file 1: %q %q", f.body, f.header.Get("Content-Type"))
	}
	if cd := f.header.Get("Content-Disposition"); strings.Count(cd, `"`) != 2 || strings.ContainsAny(cd, "\r\n") {
		t.Errorf("unsafe disposition %q", cd)
	}

	log, err := e.store.Log(context.Background(), p.MessageID)
	if err != nil || len(log) != 2 {
		t.Fatalf("log %v %+v", err, log)
	}
	if log[0].Recipient != "alice@partner.co.jp" || log[0].IP != "127.0.0.1" || log[0].UserAgent != "link-test/1.0" || log[0].File != 0 {
		t.Errorf("log entry %+v", log[0])
	}
	info, _ := e.store.Get(context.Background(), c.ID)
	if info.Files[0].Downloads != 1 || info.Files[1].Downloads != 1 {
		t.Errorf("counts %+v", info.Files)
	}
	// The audit log has the whole story.
	evs, err := e.audit.Events(context.Background(), p.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	if got := strings.Join(actions, ","); got != "link_created,link_code_sent,link_verified,link_download,link_download" {
		t.Errorf("audit %s", got)
	}
	if _, err := e.audit.Verify(context.Background()); err != nil {
		t.Error(err)
	}

	// The sender's page shows the log.
	rv := b.get("/d/revoke/" + c.RevokeToken.Text())
	if rv.status != http.StatusOK || !strings.Contains(rv.body, "alice@partner.co.jp") || !strings.Contains(rv.body, "link-test/1.0") {
		t.Errorf("sender page %d lacks the log", rv.status)
	}
}

func TestWrongCodesLock(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	code := b.requestCode(tok)
	wrong := "00000000"
	if code == wrong {
		wrong = "00000001"
	}
	for i := 4; i >= 1; i-- {
		r := b.verify(tok, wrong)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "tries left") {
			t.Fatalf("wrong code %d: status %d", i, r.status)
		}
	}
	r := b.verify(tok, wrong)
	if !strings.Contains(r.body, "Too many wrong codes") {
		t.Fatalf("fifth wrong code: %d", r.status)
	}
	r = b.verify(tok, code)
	if r.status == http.StatusSeeOther || !strings.Contains(r.body, "Too many wrong codes") {
		t.Fatalf("right code after lock: status %d", r.status)
	}
	if f := b.get("/d/" + tok + "/file/0"); f.status != http.StatusForbidden {
		t.Errorf("download without session: %d", f.status)
	}
	// A new code works again.
	b.login(tok)
	if f := b.get("/d/" + tok + "/file/0"); f.status != http.StatusOK {
		t.Errorf("download after new code: %d", f.status)
	}
}

func TestCodeReuseRefused(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	code := b.requestCode(tok)
	if r := b.verify(tok, code); r.status != http.StatusSeeOther {
		t.Fatalf("first use: %d", r.status)
	}
	other := e.client()
	r := other.verify(tok, code)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "already used") {
		t.Fatalf("reuse: status %d", r.status)
	}
	if f := other.get("/d/" + tok + "/file/0"); f.status != http.StatusForbidden {
		t.Errorf("second browser downloads: %d", f.status)
	}
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	code := b.requestCode(tok)
	e.clock.Advance(10 * time.Minute)
	if r := b.verify(tok, code); !strings.Contains(r.body, "expired") {
		t.Fatalf("expired code: %d", r.status)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	b.login(tok)
	e.clock.Advance(31 * time.Minute)
	if f := b.get("/d/" + tok + "/file/0"); f.status != http.StatusForbidden {
		t.Errorf("download after session end: %d", f.status)
	}
}

func TestCodeRequestLimit(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	for range 5 {
		b.requestCode(tok)
	}
	csrf := b.csrf("/d/" + tok)
	r := b.post("/d/"+tok, url.Values{"csrf": {csrf}, "action": {"send_code"}})
	if r.status != http.StatusTooManyRequests || e.mailCount() != 5 {
		t.Fatalf("sixth code: status %d, %d mails", r.status, e.mailCount())
	}
	e.clock.Advance(time.Hour)
	b.requestCode(tok)
}

func TestMailFailureShown(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.create(e.pkg()).Links[0].Token.Text()
	e.mailFail = errors.New("queue full")
	b := e.client()
	csrf := b.csrf("/d/" + tok)
	r := b.post("/d/"+tok, url.Values{"csrf": {csrf}, "action": {"send_code"}})
	if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "queue full") {
		t.Fatalf("status %d", r.status)
	}
}

// goneChecks asserts that nothing is served for a link: page, code,
// verify and download all give the clear page with want in it.
func goneChecks(t *testing.T, e *env, b *client, tok, want string) {
	t.Helper()
	csrf := e.h.csrfToken(mustParse(t, tok))
	n := e.mailCount()
	for _, r := range []resp{
		b.get("/d/" + tok),
		b.get("/d/" + tok + "/file/0"),
		b.get("/d/" + tok + "/file/1"),
		b.post("/d/"+tok, url.Values{"csrf": {csrf}, "action": {"send_code"}}),
		b.post("/d/"+tok+"/verify", url.Values{"csrf": {csrf}, "code": {"12345678"}}),
	} {
		if r.status != http.StatusGone || !strings.Contains(r.body, want) {
			t.Errorf("status %d, want 410 with %q", r.status, want)
		}
		if strings.Contains(r.body, "見積書") || strings.Contains(r.body, "a,b") {
			t.Error("gone page shows the files")
		}
	}
	if e.mailCount() != n {
		t.Error("code mailed for a gone link")
	}
}

func mustParse(t *testing.T, s string) token.Token {
	t.Helper()
	tk, err := token.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestExpiredLinkServesNothing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	b := e.client()
	e.clock.Advance(7*24*time.Hour - time.Second)
	b.login(tok)
	if f := b.get("/d/" + tok + "/file/1"); f.status != http.StatusOK {
		t.Fatalf("download just before expiry: %d", f.status)
	}
	e.clock.Advance(time.Second)
	goneChecks(t, e, b, tok, "expired")
	if _, err := e.store.OpenFile(context.Background(), c.Links[0].Token.Hash(), 0, Client{}); !errors.Is(err, ErrExpired) {
		t.Errorf("OpenFile after expiry: %v", err)
	}
}

func TestRevokedLinkServesNothing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	b := e.client()
	b.login(tok)
	sender := e.client()
	rvPath := "/d/revoke/" + c.RevokeToken.Text()
	csrf := sender.csrf(rvPath)
	r := sender.post(rvPath, url.Values{"csrf": {csrf}, "action": {"revoke"}, "lang": {"ja"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "リンクを無効にしました") {
		t.Fatalf("revoke: %d", r.status)
	}
	goneChecks(t, e, b, tok, "withdrawn")
	// Japanese clear page by Accept-Language.
	jr := b.do(http.MethodGet, "/d/"+tok, nil, map[string]string{"Accept-Language": "ja,en;q=0.5"})
	if !strings.Contains(jr.body, "このリンクは無効になりました") || !strings.Contains(jr.body, `lang="ja"`) {
		t.Error("no Japanese clear page")
	}
	// Revoking again changes nothing and says so.
	r = sender.post(rvPath, url.Values{"csrf": {csrf}, "action": {"revoke"}})
	if r.status != http.StatusConflict || strings.Contains(r.body, `value="revoke"`) {
		t.Errorf("second revoke: %d", r.status)
	}
	evs, _ := e.audit.Events(context.Background(), "<m1@example.com>")
	if n := countAction(evs, "link_revoked"); n != 1 {
		t.Errorf("%d revoke events", n)
	}
}

func TestDownloadLimit(t *testing.T) {
	e := newEnv(t, nil)
	p := e.pkg()
	p.MaxDownloads = 1
	c := e.create(p)
	a, bob := e.client(), e.client()
	a.login(c.Links[0].Token.Text())
	bob.login(c.Links[1].Token.Text())
	if f := a.get("/d/" + c.Links[0].Token.Text() + "/file/0"); f.status != http.StatusOK {
		t.Fatalf("first download: %d", f.status)
	}
	// The limit is per file over all recipients.
	if f := bob.get("/d/" + c.Links[1].Token.Text() + "/file/0"); f.status != http.StatusGone || !strings.Contains(f.body, "Download limit") {
		t.Fatalf("second download of file 0: %d", f.status)
	}
	if f := bob.get("/d/" + c.Links[1].Token.Text() + "/file/1"); f.status != http.StatusOK {
		t.Fatalf("file 1: %d", f.status)
	}
	goneChecks(t, e, a, c.Links[0].Token.Text(), "Download limit")
}

func TestTokensRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	alice, bob := c.Links[0].Token.Text(), c.Links[1].Token.Text()
	a := e.client()
	a.login(alice)

	// Alice's session does not open Bob's link, even sent by hand.
	var sess string
	u, _ := url.Parse(e.srv.URL + "/d/" + alice)
	for _, ck := range a.http.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sess = ck.Value
		}
	}
	if sess == "" {
		t.Fatal("no session cookie")
	}
	r := a.do(http.MethodGet, "/d/"+bob+"/file/0", nil, map[string]string{"Cookie": sessionCookie + "=" + sess})
	if r.status != http.StatusForbidden {
		t.Errorf("alice's session on bob's link: %d", r.status)
	}
	// A forged session value is refused.
	forged := a.do(http.MethodGet, "/d/"+bob+"/file/0", nil, map[string]string{"Cookie": sessionCookie + "=" + strings.Repeat("A", 54)})
	if forged.status != http.StatusForbidden {
		t.Errorf("forged session: %d", forged.status)
	}
	// Alice's code is no good on Bob's link.
	code := e.client().requestCode(alice)
	if r := a.verify(bob, code); r.status == http.StatusSeeOther {
		t.Error("alice's code verified bob's link")
	}

	other, _ := token.New()
	x := e.client()
	for _, path := range []string{
		"/d/" + other.Text(), "/d/" + other.Text() + "/file/0", // well-formed, unknown
		"/d/" + alice[:42], "/d/" + alice + "A", "/d/" + alice[:42] + "=", // truncated, extended, padded
		"/d/" + strings.ToUpper(alice[:1]) + strings.ToLower(alice[1:]),
	} {
		if r := x.get(path); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	// Roles do not mix.
	if r := x.get("/d/" + c.RevokeToken.Text()); r.status != http.StatusForbidden {
		t.Errorf("revoke token as download link: %d", r.status)
	}
	if r := x.get("/d/revoke/" + alice); r.status != http.StatusForbidden {
		t.Errorf("download token as revoke link: %d", r.status)
	}
	if _, err := e.store.Revoke(context.Background(), c.Links[0].Token.Hash(), Client{}); !errors.Is(err, ErrWrongRole) {
		t.Errorf("recipient revokes: %v", err)
	}
	if _, _, err := e.store.IssueCode(context.Background(), c.RevokeToken.Hash(), Client{}); !errors.Is(err, ErrWrongRole) {
		t.Errorf("code for sender token: %v", err)
	}
	// Bad file numbers.
	for _, n := range []string{"2", "-1", "01", "1e0", "x"} {
		if r := a.get("/d/" + alice + "/file/" + n); r.status != http.StatusNotFound {
			t.Errorf("file %s: %d", n, r.status)
		}
	}
}

func TestGuessingRateLimited(t *testing.T) {
	e := newEnv(t, func(_ *Options, c *Config) { c.MaxFailures = 5 })
	tok := e.create(e.pkg()).Links[0].Token.Text()
	b := e.client()
	for i := range 5 {
		other, _ := token.New()
		if r := b.get("/d/" + other.Text()); r.status != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	if r := b.get("/d/" + tok); r.status != http.StatusTooManyRequests {
		t.Fatalf("blocked IP opens a real link: %d", r.status)
	}
	e.clock.Advance(10 * time.Minute)
	if r := b.get("/d/" + tok); r.status != http.StatusOK {
		t.Fatalf("after the window: %d", r.status)
	}
}

func TestCSRFRequired(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	rv := c.RevokeToken.Text()
	b := e.client()
	good := b.csrf("/d/" + tok)
	goodRv := b.csrf("/d/revoke/" + rv)
	code := b.requestCode(tok)
	n := e.mailCount()
	cases := []struct {
		name string
		path string
		form url.Values
		hdr  map[string]string
	}{
		{"code without csrf", "/d/" + tok, url.Values{"action": {"send_code"}}, nil},
		{"code with other link's csrf", "/d/" + tok, url.Values{"csrf": {goodRv}, "action": {"send_code"}}, nil},
		{"code cross-origin", "/d/" + tok, url.Values{"csrf": {good}, "action": {"send_code"}}, map[string]string{"Origin": "https://evil.example"}},
		{"code cross-site fetch", "/d/" + tok, url.Values{"csrf": {good}, "action": {"send_code"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"verify without csrf", "/d/" + tok + "/verify", url.Values{"code": {code}}, nil},
		{"verify wrong csrf", "/d/" + tok + "/verify", url.Values{"csrf": {good[:len(good)-1] + "x"}, "code": {code}}, nil},
		{"verify cross-origin", "/d/" + tok + "/verify", url.Values{"csrf": {good}, "code": {code}}, map[string]string{"Origin": "null"}},
		{"revoke without csrf", "/d/revoke/" + rv, url.Values{"action": {"revoke"}}, nil},
		{"revoke with download csrf", "/d/revoke/" + rv, url.Values{"csrf": {good}, "action": {"revoke"}}, nil},
		{"revoke cross-origin", "/d/revoke/" + rv, url.Values{"csrf": {goodRv}, "action": {"revoke"}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
	}
	for _, tc := range cases {
		r := b.do(http.MethodPost, tc.path, tc.form, tc.hdr)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d", tc.name, r.status)
		}
	}
	info, _ := e.store.Get(context.Background(), c.ID)
	if e.mailCount() != n || !info.RevokedAt.IsZero() {
		t.Fatal("a refused post changed something")
	}
	// The code was not used up by the refused posts.
	if r := b.verify(tok, code); r.status != http.StatusSeeOther {
		t.Errorf("code after refused posts: %d", r.status)
	}
}

func TestCSPOnEveryResponse(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	tok := c.Links[0].Token.Text()
	b := e.client()
	b.login(tok)
	var rs []resp
	for _, p := range []string{"/d/" + tok, "/d/" + tok + "/file/0", "/d/static/style.css", "/d/static/favicon.svg", "/d/revoke/" + c.RevokeToken.Text(),
		"/d/nope", "/d/", "/elsewhere", "/d/" + tok + "/file/9", "/d/a/b/c/d"} {
		rs = append(rs, b.get(p))
	}
	rs = append(rs, b.do(http.MethodPut, "/d/"+tok, nil, nil), b.post("/d/"+tok, url.Values{}))
	for i, r := range rs {
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("response %d (status %d): CSP %q", i, r.status, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("response %d lacks nosniff", i)
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, " style=") {
			t.Errorf("response %d has inline script or style", i)
		}
	}
}

func TestGetChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.create(e.pkg())
	b := e.client()
	for range 3 {
		b.get("/d/" + c.Links[0].Token.Text())
		b.get("/d/revoke/" + c.RevokeToken.Text())
	}
	info, _ := e.store.Get(context.Background(), c.ID)
	if !info.RevokedAt.IsZero() || e.mailCount() != 0 || info.Files[0].Downloads != 0 {
		t.Fatal("GET changed state")
	}
}

func TestInterruptedDownloadCounts(t *testing.T) {
	e := newEnv(t, nil)
	p := e.pkg(FileIn{Name: "big.bin", Reader: io.LimitReader(rand.Reader, 2<<20)})
	p.MaxDownloads = 1
	c := e.create(p)
	fr, err := e.store.OpenFile(context.Background(), c.Links[0].Token.Hash(), 0, Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	fr.Close() // the transfer broke off at once
	if _, err := e.store.OpenFile(context.Background(), c.Links[1].Token.Hash(), 0, Client{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("second open: %v", err)
	}
}
