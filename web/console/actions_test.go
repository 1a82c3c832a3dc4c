package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/templates"
)

// TestStateChangingRoutesRefused posts to every state-changing route
// without a CSRF token, with a wrong one, cross-site, and as a viewer, and
// checks that each is refused with 403 and nothing changed.
func TestStateChangingRoutesRefused(t *testing.T) {
	tested := 0
	e := newEnv(t, func(c *Config) {
		c.Test = func(context.Context, io.Reader) (*inspect.Result, error) { tested++; return nil, nil }
	})
	e.addUser("vera", RoleViewer)
	e.addUser("rita", RoleReviewer)
	e.addUser("adam", RoleAdmin)
	id := e.seed(msg{subject: "held"})
	viewer, reviewer := e.client(), e.client()
	viewer.login("vera")
	reviewer.login("rita")
	routes := []struct {
		path    string
		form    url.Values
		minRole string
	}{
		{"/console/msg/" + id + "/release", url.Values{"mode": {"bcc"}}, RoleReviewer},
		{"/console/msg/" + id + "/reject", url.Values{"reason": {"no"}}, RoleReviewer},
		{"/console/bulk", url.Values{"id": {id}, "op": {"release"}, "confirm": {"1"}}, RoleReviewer},
		{"/console/audit/verify", url.Values{}, RoleAdmin},
		{"/console/policy/test", url.Values{}, RoleReviewer},
		{"/console/lang", url.Values{"lang": {"ja"}}, RoleViewer},
		{"/console/logout", url.Values{}, RoleViewer},
	}
	// Every POST route of the mux is in the table.
	if n := strings.Count(routesSource(e.h), "POST "); n != len(routes)+2 { // + login, totp
		t.Fatalf("table covers %d routes, the mux has %d POST routes", len(routes), n-2)
	}
	eventsBefore := len(e.events(hold.EventFilter{}))
	for _, rt := range routes {
		check := func(name string, c *client, form url.Values, hdr map[string]string) {
			t.Helper()
			req, _ := http.NewRequest("POST", e.srv.URL+rt.path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if r := c.do(req); r.status != http.StatusForbidden {
				t.Errorf("%s %s: status %d, want 403", rt.path, name, r.status)
			}
		}
		c := reviewer
		if rt.minRole == RoleAdmin || rt.minRole == RoleViewer {
			c = viewer
		}
		c.get("/console/queue")
		good := c.csr
		noToken := cloneForm(rt.form)
		check("without token", c, noToken, nil)
		wrong := cloneForm(rt.form)
		wrong.Set("csrf", strings.Repeat("A", len(good)))
		check("wrong token", c, wrong, nil)
		cross := cloneForm(rt.form)
		cross.Set("csrf", good)
		check("cross-site", c, cross, map[string]string{"Origin": "https://evil.example"})
		check("cross-site fetch", c, cross, map[string]string{"Sec-Fetch-Site": "cross-site"})
		check("signed out", e.client(), cross, nil)
		if rt.minRole != RoleViewer {
			viewer.get("/console/queue")
			vf := cloneForm(rt.form)
			vf.Set("csrf", viewer.csr)
			check("viewer", viewer, vf, nil)
		}
		if rt.minRole == RoleAdmin {
			rf := cloneForm(rt.form)
			rf.Set("csrf", reviewer.csr)
			check("reviewer", reviewer, rf, nil)
		}
	}
	if st := e.state(id); st != hold.StateHeld || e.releases.Load() != 0 || tested != 0 {
		t.Fatalf("something changed: state %s, releases %d, tests %d", st, e.releases.Load(), tested)
	}
	if n := len(e.events(hold.EventFilter{})); n != eventsBefore {
		t.Fatalf("audit events %d → %d", eventsBefore, n)
	}
	u, _ := e.h.users.get("vera")
	if u.Lang != "" {
		t.Fatalf("language changed to %q", u.Lang)
	}
	if r := viewer.get("/console/queue"); r.status != http.StatusOK {
		t.Fatalf("viewer signed out by a refused logout: %d", r.status)
	}
	// The viewer sees no action buttons.
	if r := viewer.get("/console/msg/" + id); strings.Contains(r.body, "release-form") || strings.Contains(r.body, "bulk-submit") {
		t.Fatal("viewer is offered actions")
	}
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// routesSource lists the handler's registered routes, for the table check.
func routesSource(h *Handler) string {
	var b strings.Builder
	for _, p := range []string{"login", "totp", "logout", "lang", "msg/X/release", "msg/X/reject", "bulk", "audit/verify", "policy/test",
		"", "queue", "msg/X", "msg/X/att/0", "audit", "audit/export", "policy", "static/console.css"} {
		for _, m := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(m, "http://x"+h.prefix+p, nil)
			if _, pat := h.mux.Handler(req); pat != "/" && strings.HasPrefix(pat, m) {
				b.WriteString(pat + "\n")
			}
		}
	}
	return b.String()
}

func TestReleaseAndReject(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	a := e.seed(msg{subject: "customer list"})
	b := e.seed(msg{subject: "salary"})
	c := e.client()
	c.ua = "Mozilla/5.0 test"
	c.login("rita")
	c.get("/console/msg/" + a)
	// A release first shows what it will do, and does nothing yet.
	r := c.postCSRF("/console/msg/"+a+"/release", url.Values{"mode": {"bcc"}, "reason": {"checked with sender"}, "note": {"ticket 42"}})
	mustContain(t, r.body, `id="confirm-form"`, `action="/console/msg/`+a+`/release"`, "External To/Cc recipients are moved to Bcc",
		"checked with sender", "ticket 42", `name="confirm" value="1"`, `name="mode" value="bcc"`)
	if r.status != http.StatusOK || e.state(a) != hold.StateHeld || e.releases.Load() != 0 {
		t.Fatalf("release before confirmation: %d %s", r.status, e.state(a))
	}
	r = c.postCSRF("/console/msg/"+a+"/release", url.Values{"mode": {"bcc"}, "reason": {"checked with sender"}, "note": {"ticket 42"}, "confirm": {"1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/msg/"+a+"?done=released" {
		t.Fatalf("release: %d %q", r.status, r.header.Get("Location"))
	}
	if e.releases.Load() != 1 {
		t.Fatalf("OnRelease ran %d times", e.releases.Load())
	}
	rec, _ := e.hold.Get(context.Background(), a)
	if rec.State != hold.StateReleased || rec.Mode != hold.ModeBcc || rec.DecidedBy.Name != "rita" ||
		rec.DecidedBy.Role != RoleReviewer || rec.DecidedBy.IP != "127.0.0.1" || rec.DecidedBy.UserAgent != "Mozilla/5.0 test" {
		t.Fatalf("released record: %+v", rec)
	}
	// The reason goes to the sender (the record); the note only to the audit log.
	if rec.Reason != "checked with sender" {
		t.Fatalf("record reason %q", rec.Reason)
	}
	if ev := e.events(hold.EventFilter{MessageID: a, Action: auditNote}); len(ev) != 1 || ev[0].Reason != "ticket 42" || ev[0].Actor.Name != "rita" {
		t.Fatalf("note event: %+v", ev)
	}
	// A second click is refused and does not release again.
	r = c.postCSRF("/console/msg/"+a+"/release", url.Values{"mode": {"as_is"}, "confirm": {"1"}})
	if r.status != http.StatusConflict || e.releases.Load() != 1 {
		t.Fatalf("second release: %d, releases %d", r.status, e.releases.Load())
	}
	// Reject without a reason is refused; with one it is recorded.
	c.get("/console/msg/" + b)
	r = c.postCSRF("/console/msg/"+b+"/reject", url.Values{"reason": {"  "}})
	if e.state(b) != hold.StateHeld || !strings.Contains(r.header.Get("Location"), "err=reason") {
		t.Fatalf("reject without reason: %d %s", r.status, e.state(b))
	}
	c.postCSRF("/console/msg/"+b+"/reject", url.Values{"reason": {"顧客リストの社外送信は禁止"}})
	rec, _ = e.hold.Get(context.Background(), b)
	if rec.State != hold.StateRejected || rec.Reason != "顧客リストの社外送信は禁止" {
		t.Fatalf("rejected record: %s %q", rec.State, rec.Reason)
	}
	ev := e.events(hold.EventFilter{MessageID: b, Action: hold.ActionReject})
	if len(ev) != 1 || ev[0].Reason != "顧客リストの社外送信は禁止" || ev[0].Actor.Name != "rita" {
		t.Fatalf("reject event: %+v", ev)
	}
	if r := c.get("/console/msg/" + b); !strings.Contains(r.body, "顧客リストの社外送信は禁止") || strings.Contains(r.body, "reject-form") {
		t.Fatal("decided message page")
	}
}

func TestBulkNeedsConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	ids := []string{e.seed(msg{subject: "one"}), e.seed(msg{subject: "two"}), e.seed(msg{subject: "three"})}
	c := e.client()
	c.login("rita")
	c.get("/console/queue")
	form := url.Values{"id": ids[:2], "op": {"release_encrypt"}}
	r := c.postCSRF("/console/bulk", form)
	if r.status != http.StatusOK || !strings.Contains(r.body, "confirm-form") || e.releases.Load() != 0 {
		t.Fatalf("first step: %d, releases %d", r.status, e.releases.Load())
	}
	mustContain(t, r.body, "one", "two", `name="confirm" value="1"`)
	form.Set("confirm", "1")
	r = c.postCSRF("/console/bulk", form)
	if r.status != http.StatusSeeOther || e.releases.Load() != 2 {
		t.Fatalf("confirmed: %d, releases %d", r.status, e.releases.Load())
	}
	if r := c.get(r.header.Get("Location")); !strings.Contains(r.body, "2 messages processed, 0 not") {
		t.Fatal("bulk result notice")
	}
	rec, _ := e.hold.Get(context.Background(), ids[0])
	if rec.Mode != hold.ModeEncrypt || e.state(ids[2]) != hold.StateHeld {
		t.Fatalf("mode %s, third %s", rec.Mode, e.state(ids[2]))
	}
	// Bulk reject needs a reason.
	c.get("/console/queue")
	if r := c.postCSRF("/console/bulk", url.Values{"id": {ids[2]}, "op": {"reject"}, "confirm": {"1"}}); r.status != http.StatusBadRequest {
		t.Fatalf("bulk reject without reason: %d", r.status)
	}
}

// TestHostileContentEscaped seeds a message whose every field is an
// attack and checks that no page renders any of it as markup.
func TestHostileContentEscaped(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("adam", RoleAdmin)
	const xss = `<script>alert(1)</script>`
	subject := "Re: " + xss + "\r\nBcc: victim@evil.example"
	body := "From: \"<img src=x onerror=alert(2)>\" <alice@example.com>\r\n" +
		"To: \"" + xss + "\" <bob@partner.co.jp>\r\n" +
		"Subject: =?utf-8?B?PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==?=\r\n" +
		"X-Evil: <svg onload=alert(4)>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Hi <script>alert('body')</script>\r\nline two\r\n</pre><script>alert(5)</script>\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"\\\"><script>alert(6)</script>.pdf\"\r\n\r\n%PDF-1.4\r\n--b--\r\n"
	id := e.seed(msg{
		subject: subject, body: body, sender: "<b>evil</b>@example.com",
		rcpts: []rules.Recipient{{Address: "bob@partner.co.jp", Name: "<img src=x onerror=alert(7)>", Field: "to", Domain: "partner.co.jp", External: true, Envelope: true}},
		findings: []rules.Finding{{Detector: "mynumber", Count: 1, Location: "attachment:<script>alert(8)</script>.csv",
			Samples: []string{"<i>1234</i>********"}, Values: []string{"123456789018"}}},
		atts: []rules.Attachment{{Name: `"><script>alert(6)</script>.pdf`, Location: "attachment:x", Type: "application/pdf", Size: 9}},
	})
	c := e.client()
	c.login("adam")
	c.get("/console/msg/" + id)
	c.postCSRF("/console/msg/"+id+"/reject", url.Values{"reason": {"</textarea><script>alert(9)</script>"}})
	pages := map[string]string{}
	for _, p := range []string{"/console/queue?state=", "/console/msg/" + id, "/console/audit", "/console/", "/console/queue?state=rejected&sender=" + url.QueryEscape("<b>evil</b>@example.com")} {
		r := c.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", p, r.status)
		}
		pages[p] = r.body
	}
	for p, body := range pages {
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>evil", "<i>1234", "onerror=alert(7)>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s renders %q", p, bad)
			}
		}
		if strings.Contains(body, "123456789018") {
			t.Errorf("%s shows a raw detector value", p)
		}
	}
	mp := pages["/console/msg/"+id]
	mustContain(t, mp, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(&#39;body&#39;)", "&lt;img src=x onerror=alert(7)&gt;",
		"&lt;svg onload=alert(4)&gt;", "&lt;i&gt;1234&lt;/i&gt;********", "&lt;script&gt;alert(3)&lt;/script&gt;")
	if strings.Count(mp, "<script") != 1 { // only the console's own script tag
		t.Errorf("message page has %d script tags", strings.Count(mp, "<script"))
	}
	// The attachment downloads as an octet stream, never inline.
	r := c.get("/console/msg/" + id + "/att/0")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") || strings.ContainsAny(r.header.Get("Content-Disposition"), "<>\r\n") {
		t.Fatalf("download: %d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}
}

func TestAttachmentDownloadAdminOnly(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	e.addUser("adam", RoleAdmin)
	body := "From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: list\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"顧客.csv\"\r\n\r\nname,number\r\nx,1\r\n--b--\r\n"
	id := e.seed(msg{subject: "list", body: body})
	rc := e.client()
	rc.login("rita")
	if r := rc.get("/console/msg/" + id); strings.Contains(r.body, "/att/0") {
		t.Fatal("reviewer sees download link")
	}
	if r := rc.get("/console/msg/" + id + "/att/0"); r.status != http.StatusForbidden {
		t.Fatalf("reviewer download: %d", r.status)
	}
	ac := e.client()
	ac.login("adam")
	if r := ac.get("/console/msg/" + id); !strings.Contains(r.body, "/att/0") {
		t.Fatal("admin lacks download link")
	}
	r := ac.get("/console/msg/" + id + "/att/0")
	if r.status != http.StatusOK || r.body != "name,number\r\nx,1" || !strings.Contains(r.header.Get("Content-Disposition"), "filename*=UTF-8''%E9%A1%A7%E5%AE%A2.csv") {
		t.Fatalf("admin download: %d %q %q", r.status, r.body, r.header.Get("Content-Disposition"))
	}
	ev := e.events(hold.EventFilter{Action: auditDownload})
	if len(ev) != 1 || ev[0].MessageID != id || ev[0].Actor.Name != "adam" || ev[0].Reason != "顧客.csv" {
		t.Fatalf("download events: %+v", ev)
	}
	if r := ac.get("/console/msg/" + id + "/att/7"); r.status != http.StatusNotFound {
		t.Fatalf("missing part: %d", r.status)
	}
}

func TestAuditExportAndVerify(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("adam", RoleAdmin)
	id := e.seed(msg{subject: "x"})
	c := e.client()
	c.ua = "=HYPERLINK(\"http://evil.example\")"
	c.login("adam")
	c.get("/console/msg/" + id)
	c.postCSRF("/console/msg/"+id+"/reject", url.Values{"reason": {"=cmd|' /C calc'!A0"}})

	r := c.get("/console/audit/export?format=csv")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv: %d %q", r.status, r.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "seq" || rows[0][7] != "action" {
		t.Fatalf("csv header: %v", rows[0])
	}
	var reject []string
	for _, row := range rows[1:] {
		if row[7] == "reject" {
			reject = row
		}
		if strings.HasPrefix(row[6], "=") || strings.HasPrefix(row[11], "=") {
			t.Errorf("formula not defused: %v", row)
		}
	}
	if reject == nil || reject[2] != id || reject[3] != "adam" || reject[11] != "'=cmd|' /C calc'!A0" {
		t.Fatalf("reject row: %v", reject)
	}

	r = c.get("/console/audit/export?format=jsonl&action=reject")
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 1 {
		t.Fatalf("jsonl lines: %d", len(lines))
	}
	var ev hold.Event
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev.MessageID != id || ev.Reason != "=cmd|' /C calc'!A0" || ev.Hash == (hold.Hash{}) {
		t.Fatalf("jsonl event: %+v %v", ev, err)
	}
	if n := len(e.events(hold.EventFilter{Action: auditExport})); n != 2 {
		t.Fatalf("export events: %d", n)
	}
	// Filters apply to the page as well.
	if r := c.get("/console/audit?action=reject"); !strings.Contains(r.body, id) || strings.Contains(r.body, "act-signin\"") {
		t.Fatal("filtered audit page")
	}
	c.get("/console/audit")
	r = c.postCSRF("/console/audit/verify", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `class="flash ok" id="verify-result"`) {
		t.Fatalf("verify: %d", r.status)
	}
	if r := c.get("/console/audit/export?format=xml"); r.status != http.StatusBadRequest {
		t.Fatalf("bad format: %d", r.status)
	}
}

func TestQueueFilters(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	card := []rules.Finding{{Detector: "credit_card", Count: 1, Location: "body", Samples: []string{"4111********1111"}}}
	a := e.seed(msg{subject: "alpha", sender: "a@example.com", findings: card, age: 3})
	b := e.seed(msg{subject: "bravo", sender: "b@example.com", kind: hold.KindSender, rules: []string{"lookalike"},
		rcpts: []rules.Recipient{{Address: "x@exarnple.com", Domain: "exarnple.com", External: true, Field: "to", Envelope: true}}, age: 2})
	cc := e.seed(msg{subject: "charlie", sender: "a@example.com", age: 1})
	c := e.client()
	c.login("vera")
	cases := map[string][]string{
		"":                               {cc, b, a},
		"?sort=oldest":                   {a, b, cc},
		"?sender=A@example.com":          {cc, a},
		"?kind=sender":                   {b},
		"?rule=lookalike":                {b},
		"?domain=exarnple.com":           {b},
		"?detector=credit_card":          {a},
		"?state=released":                {},
		"?from=2026-11-19&to=2026-11-20": {cc, b, a},
		"?from=2026-11-21":               {},
	}
	for q, want := range cases {
		r := c.get("/console/queue" + q)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", q, r.status)
		}
		var got []string
		for _, id := range []string{a, b, cc} {
			if i := strings.Index(r.body, "/console/msg/"+id); i >= 0 {
				got = append(got, id)
			}
		}
		order := func(ids []string) []int {
			var pos []int
			for _, id := range ids {
				pos = append(pos, strings.Index(r.body, "/console/msg/"+id))
			}
			return pos
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d", q, len(got), len(want))
			continue
		}
		p := order(want)
		for i := 1; i < len(p); i++ {
			if p[i] < p[i-1] {
				t.Errorf("%s: wrong order", q)
			}
		}
	}
	if r := c.get("/console/queue?from=yesterday"); !strings.Contains(r.body, "flash err") {
		t.Error("bad date accepted silently")
	}
	// Paging: limit 1 gives a next link that leads to the second row.
	r := c.get("/console/queue?limit=1")
	i := strings.Index(r.body, `id="next-page"`)
	if i < 0 {
		t.Fatal("no next page link")
	}
	href := r.body[strings.LastIndex(r.body[:i], `href="`)+6 : i-2]
	r = c.get(strings.ReplaceAll(href, "&amp;", "&"))
	if !strings.Contains(r.body, "/console/msg/"+b) || strings.Contains(r.body, "/console/msg/"+cc) {
		t.Fatal("second page")
	}
}

func TestDashboardAndPolicy(t *testing.T) {
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	var tested []byte
	e := newEnv(t, func(c *Config) {
		c.Policy = pol.Rules()
		c.Test = func(ctx context.Context, r io.Reader) (*inspect.Result, error) {
			tested, _ = io.ReadAll(r)
			return &inspect.Result{
				Report: &rules.Report{Findings: []rules.Finding{{Detector: "mynumber", Count: 1, Location: "body",
					Samples: []string{"1234********"}, Values: []string{"123456789018"}}}},
				Decision: policy.Decision{Actions: []string{"hold_review"}, Rules: []string{"pii-external"}},
			}, nil
		}
		c.MaxUpload = 1 << 20
	})
	e.addUser("rita", RoleReviewer)
	e.seed(msg{subject: "x", sender: "top@example.com", findings: []rules.Finding{{Detector: "mynumber", Count: 1, Location: "body"}}})
	c := e.client()
	c.login("rita")
	r := c.get("/console/")
	mustContain(t, r.body, "<svg", "top@example.com", "partner.co.jp", "pii-external", "My Number")
	r = c.get("/console/policy")
	for _, ri := range pol.Rules() {
		mustContain(t, r.body, ri.Name)
	}
	// Upload an .eml to the test form.
	upload := func(content []byte) resp {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", c.csr)
		fw, _ := mw.CreateFormFile("eml", "t.eml")
		fw.Write(content)
		mw.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/console/policy/test", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	r = upload([]byte("Subject: hi\r\n\r\nbody\r\n"))
	if r.status != http.StatusOK || string(tested) != "Subject: hi\r\n\r\nbody\r\n" {
		t.Fatalf("policy test: %d %q", r.status, tested)
	}
	mustContain(t, r.body, "test-result", "hold_review", "1234********")
	if strings.Contains(r.body, "123456789018") {
		t.Fatal("raw value shown")
	}
	c.get("/console/policy")
	if r := upload(bytes.Repeat([]byte("x"), 2<<20)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload: %d", r.status)
	}
	// Japanese throughout once chosen.
	c.get("/console/")
	c.postCSRF("/console/lang", url.Values{"lang": {"ja"}, "next": {"/console/"}})
	r = c.get("/console/")
	mustContain(t, r.body, `lang="ja"`, "ダッシュボード", "保留キュー")
	for _, p := range []string{"/console/queue", "/console/audit", "/console/policy"} {
		if r := c.get(p); !strings.Contains(r.body, `lang="ja"`) || r.status != http.StatusOK {
			t.Errorf("%s not in Japanese", p)
		}
	}
}

func TestCatalogComplete(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range templates.Languages() {
		for _, k := range c.c.Keys(lang) {
			if strings.HasPrefix(k, "console.") && c.c.T(lang, k) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
		}
	}
}

// The reviewer's internal note never reaches the sender: the rejection
// notice carries the reason only.
func TestNoteNeverReachesTheSender(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("rita", RoleReviewer)
	id := e.seed(msg{subject: "salary", sender: "taro@example.com"})
	c := e.client()
	c.login("rita")
	c.get("/console/msg/" + id)
	c.postCSRF("/console/msg/"+id+"/reject", url.Values{"reason": {"給与明細は社外に送れません"}, "note": {"SECRET-NOTE: HR ticket 7"}})
	if e.state(id) != hold.StateRejected {
		t.Fatalf("state %s", e.state(id))
	}
	mails := e.noticesTo("taro@example.com")
	if len(mails) != 1 {
		t.Fatalf("%d notices to the sender", len(mails))
	}
	if !strings.Contains(mails[0], "給与明細は社外に送れません") || strings.Contains(mails[0], "SECRET-NOTE") {
		t.Fatalf("rejection notice:\n%s", mails[0])
	}
	if ev := e.events(hold.EventFilter{MessageID: id, Action: auditNote}); len(ev) != 1 || ev[0].Reason != "SECRET-NOTE: HR ticket 7" {
		t.Fatalf("note event: %+v", ev)
	}
}
