package web

import (
	"context"
	"crypto/hmac"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

func confirmForm(csrf string, action string, acks []string) url.Values {
	v := values("csrf", csrf, "action", action)
	for _, a := range acks {
		v.Add("ack", a)
	}
	return v
}

func TestGetChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	before := e.events(id)
	for range 5 {
		r := e.get(e.url(tok))
		if r.status != http.StatusOK {
			t.Fatalf("GET: %d", r.status)
		}
		if !strings.Contains(r.body, "exarnple.com") || !strings.Contains(r.body, `name="ack"`) {
			t.Fatalf("confirm page lacks recipients or boxes:\n%s", r.body)
		}
	}
	req, _ := http.NewRequest(http.MethodHead, e.url(tok), nil)
	if r := e.do(req); r.status != http.StatusOK {
		t.Errorf("HEAD: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld {
		t.Errorf("state after GETs = %s", got)
	}
	if n := e.events(id); n != before {
		t.Errorf("GET wrote %d audit events", n-before)
	}
	_, hash, _ := parseTokenForTest(t, tok)
	if _, _, err := e.store.LookupToken(context.Background(), hash, hold.RoleSender, e.clock.Now()); err != nil {
		t.Errorf("token after GETs: %v", err)
	}
	if e.releases.Load() != 0 {
		t.Error("GET released the message")
	}
}

func parseTokenForTest(t *testing.T, tok string) ([]byte, [32]byte, bool) {
	t.Helper()
	raw, hash, ok := parseToken(tok)
	if !ok {
		t.Fatalf("token %q does not parse", tok)
	}
	return raw, hash, ok
}

func TestConfirmReleasesOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	if len(acks) != 3 { // two external domains and one attachment
		t.Fatalf("acks = %v", acks)
	}
	r := e.post(e.url(tok), confirmForm(csrf, "send", acks))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Sent") {
		t.Fatalf("POST send: %d\n%s", r.status, r.body)
	}
	rec := e.record(id)
	if rec.State != hold.StateReleased || rec.Mode != hold.ModeAsIs {
		t.Errorf("record %s/%s", rec.State, rec.Mode)
	}
	if rec.DecidedBy.IP != "127.0.0.1" || rec.DecidedBy.UserAgent != "sendguard-test/1" || rec.DecidedBy.Role != "sender" || rec.DecidedBy.Name != "taro@example.com" {
		t.Errorf("actor = %+v", rec.DecidedBy)
	}
	// Replayed: same token, same valid form.
	r = e.post(e.url(tok), confirmForm(csrf, "send", acks))
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Already decided") {
		t.Errorf("replayed POST: %d\n%s", r.status, r.body)
	}
	if r := e.get(e.url(tok)); r.status != http.StatusConflict || !strings.Contains(r.body, "taro@example.com") {
		t.Errorf("GET after use: %d", r.status)
	}
	if n := e.releases.Load(); n != 1 {
		t.Errorf("OnRelease called %d times", n)
	}
}

func TestConcurrentConfirmReleasesOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	const n = 50
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			form := confirmForm(csrf, "send", acks)
			req, _ := http.NewRequest(http.MethodPost, e.url(tok), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := e.srv.Client().Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("statuses = %v, want one 200 and %d 409", count, n-1)
	}
	if got := e.releases.Load(); got != 1 {
		t.Errorf("OnRelease called %d times", got)
	}
	if got := e.record(id).State; got != hold.StateReleased {
		t.Errorf("state %s", got)
	}
}

func TestBadTokensChangeNothing(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	good := e.token(id, hold.RoleSender, time.Hour)
	short := e.token(id, hold.RoleSender, time.Minute)
	reviewer := e.token(id, hold.RoleReviewer, time.Hour)
	csrf, acks := e.form(e.url(good))
	forged, _, _ := NewToken()
	before := e.events(id)
	e.clock.Advance(2 * time.Minute) // short has expired, good has not

	cases := []struct {
		name, tok string
		status    int
		text      string
	}{
		{"forged", forged, http.StatusNotFound, "This link is not valid"},
		{"truncated", good[:len(good)-1], http.StatusNotFound, "This link is not valid"},
		{"extended", good + "A", http.StatusNotFound, "This link is not valid"},
		{"altered", flipLast(good), http.StatusNotFound, "This link is not valid"},
		{"expired", short, http.StatusGone, "This link has expired"},
		{"wrong role", reviewer, http.StatusForbidden, "This link is not for this action"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := e.get(e.url(c.tok)); r.status != c.status || !strings.Contains(r.body, c.text) {
				t.Errorf("GET: %d\n%s", r.status, r.body)
			}
			// Even with a CSRF token valid for this token, nothing happens.
			raw, _ := rawOf(c.tok)
			form := confirmForm(e.h.csrfToken(raw), "send", acks)
			if r := e.post(e.url(c.tok), form); r.status != c.status || !strings.Contains(r.body, c.text) {
				t.Errorf("POST: %d\n%s", r.status, r.body)
			}
		})
	}
	// A sender token asking for an approver's action.
	if r := e.post(e.url(good), values("csrf", csrf, "action", "approve")); r.status != http.StatusForbidden {
		t.Errorf("approve with sender token: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld {
		t.Errorf("state %s", got)
	}
	if n := e.events(id); n != before {
		t.Errorf("%d audit events written", n-before)
	}
	if e.releases.Load() != 0 {
		t.Error("released")
	}
	// The good token still works afterwards.
	if r := e.post(e.url(good), confirmForm(csrf, "cancel", nil)); r.status != http.StatusOK || !strings.Contains(r.body, "Cancelled") {
		t.Errorf("cancel with good token: %d", r.status)
	}
}

func rawOf(tok string) ([]byte, bool) {
	raw, _, ok := parseToken(tok)
	if !ok {
		return []byte(tok), false
	}
	return raw, true
}

func flipLast(tok string) string {
	c := byte('A')
	if tok[0] == 'A' {
		c = 'B'
	}
	return string(c) + tok[1:]
}

func TestCSRFAndOrigin(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	other := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	otherCSRF, _ := e.form(e.url(other))
	if hmac.Equal([]byte(csrf), []byte(otherCSRF)) {
		t.Fatal("two links share a CSRF token")
	}
	cases := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no csrf", confirmForm("", "send", acks), nil},
		{"wrong csrf", confirmForm(flipLast(csrf), "send", acks), nil},
		{"other link's csrf", confirmForm(otherCSRF, "send", acks), nil},
		{"cross-site fetch", confirmForm(csrf, "send", acks), []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-site fetch", confirmForm(csrf, "send", acks), []string{"Sec-Fetch-Site", "same-site"}},
		{"foreign origin", confirmForm(csrf, "send", acks), []string{"Origin", "https://evil.example"}},
		{"null origin, cross-site", confirmForm(csrf, "send", acks), []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}},
		{"null origin, no csrf", confirmForm("", "send", acks), []string{"Origin", "null"}},
		// A sandboxed attacker page sends "Origin: null"; our own forms
		// (Referrer-Policy: same-origin) send the real origin.
		{"null origin", confirmForm(csrf, "send", acks), []string{"Origin", "null"}},
	}
	for _, c := range cases {
		r := e.post(e.url(tok), c.form, c.hdr...)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Request refused") {
			t.Errorf("%s: %d\n%s", c.name, r.status, r.body)
		}
	}
	if got := e.record(id).State; got != hold.StateHeld || e.releases.Load() != 0 {
		t.Fatalf("state %s after refused posts", got)
	}
	// Without Origin and Sec-Fetch-Site (an old client) the CSRF token
	// suffices.
	r := e.post(e.url(tok), confirmForm(csrf, "send", acks), "Origin", "", "Sec-Fetch-Site", "")
	if r.status != http.StatusOK {
		t.Errorf("post without origin headers: %d", r.status)
	}
}

func TestCSRFKeyFromConfig(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	e1 := newEnv(t, func(c *Config) { c.CSRFKey = key })
	raw := []byte(strings.Repeat("x", 32))
	h2, err := New(Config{Store: e1.store, BaseURL: "https://sg.example/", CSRFKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if e1.h.csrfToken(raw) != h2.csrfToken(raw) {
		t.Error("same key gives different CSRF tokens")
	}
	if _, err := New(Config{Store: e1.store, BaseURL: "https://sg.example/", CSRFKey: []byte("short")}); err == nil {
		t.Error("short key accepted")
	}
}

func TestSendNeedsEveryBox(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	for i := range acks {
		partial := append(append([]string{}, acks[:i]...), acks[i+1:]...)
		partial = append(partial, "d:evil.example", "a:99") // boxes that do not exist do not count
		r := e.post(e.url(tok), confirmForm(csrf, "send", partial))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "please tick every box") {
			t.Fatalf("without %s: %d\n%s", acks[i], r.status, r.body)
		}
		if !strings.Contains(r.body, `role="alert"`) || !strings.Contains(r.body, `name="csrf"`) {
			t.Error("refused page lacks the alert or the form")
		}
		// The boxes already ticked stay ticked.
		if n := strings.Count(r.body, " checked>"); n != len(acks)-1 {
			t.Errorf("%d boxes kept ticked, want %d", n, len(acks)-1)
		}
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send", nil)); r.status != http.StatusUnprocessableEntity {
		t.Errorf("no boxes: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld || e.releases.Load() != 0 {
		t.Fatalf("state %s after refused sends", got)
	}
	// Cancel needs no boxes.
	if r := e.post(e.url(tok), confirmForm(csrf, "cancel", nil)); r.status != http.StatusOK {
		t.Errorf("cancel: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateCancelled {
		t.Errorf("state %s", got)
	}
}

func TestBccModePassedThrough(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, massReport(), "mass-exposure")
	tok := e.token(id, hold.RoleSender, time.Hour)
	r := e.get(e.url(tok))
	if !strings.Contains(r.body, `value="send_bcc"`) {
		t.Fatal("mass-exposure page offers no Bcc")
	}
	csrf, acks := e.form(e.url(tok))
	if len(acks) != 6 {
		t.Fatalf("acks %v", acks)
	}
	r = e.post(e.url(tok), confirmForm(csrf, "send_bcc", acks))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Sent with all recipients in Bcc") {
		t.Fatalf("send_bcc: %d\n%s", r.status, r.body)
	}
	if rec := e.record(id); rec.State != hold.StateReleased || rec.Mode != hold.ModeBcc {
		t.Errorf("record %s/%s", rec.State, rec.Mode)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.modes) != 1 || e.modes[0] != hold.ModeBcc {
		t.Errorf("OnRelease modes %v", e.modes)
	}
}

func TestBccRefusedWithoutMassExposure(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	if r := e.get(e.url(tok)); strings.Contains(r.body, `value="send_bcc"`) {
		t.Error("Bcc offered without mass exposure")
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send_bcc", acks)); r.status != http.StatusForbidden {
		t.Errorf("send_bcc: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld {
		t.Errorf("state %s", got)
	}
}

func TestApprover(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindApprover, sampleReport(), "pii-external")
	tok := e.token(id, hold.RoleApprover, time.Hour)
	r := e.get(e.url(tok))
	if r.status != http.StatusOK || !strings.Contains(r.body, `value="approve"`) || strings.Contains(r.body, `name="ack"`) {
		t.Fatalf("approve page: %d\n%s", r.status, r.body)
	}
	csrf, _ := e.form(e.url(tok))
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "reject", "reason", "  ")); r.status != http.StatusUnprocessableEntity {
		t.Errorf("reject without reason: %d", r.status)
	}
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "send")); r.status != http.StatusForbidden {
		t.Errorf("sender action with approver token: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld {
		t.Fatalf("state %s", got)
	}
	r = e.post(e.url(tok), values("csrf", csrf, "action", "reject", "reason", "顧客リストは送れません"))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Rejected") {
		t.Fatalf("reject: %d\n%s", r.status, r.body)
	}
	rec := e.record(id)
	if rec.State != hold.StateRejected || rec.Reason != "顧客リストは送れません" || rec.DecidedBy.Name != "boss@example.com" {
		t.Errorf("record %+v", rec)
	}
	if e.releases.Load() != 0 {
		t.Error("rejection released")
	}
}

func TestApproverApproves(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindApprover, sampleReport(), "pii-external")
	tok := e.token(id, hold.RoleApprover, time.Hour)
	csrf, _ := e.form(e.url(tok))
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "approve")); r.status != http.StatusOK {
		t.Fatalf("approve: %d", r.status)
	}
	if rec := e.record(id); rec.State != hold.StateReleased || e.releases.Load() != 1 {
		t.Errorf("state %s, releases %d", rec.State, e.releases.Load())
	}
}

func TestDelayCancelOnly(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindDelay, sampleReport())
	tok := e.token(id, RoleDelay, time.Hour)
	r := e.get(e.url(tok))
	if r.status != http.StatusOK || strings.Contains(r.body, `value="send"`) || !strings.Contains(r.body, `value="cancel"`) {
		t.Fatalf("delay page: %d\n%s", r.status, r.body)
	}
	csrf, _ := e.form(e.url(tok))
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "send")); r.status != http.StatusForbidden {
		t.Errorf("send with delay token: %d", r.status)
	}
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "cancel")); r.status != http.StatusOK {
		t.Errorf("cancel: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateCancelled {
		t.Errorf("state %s", got)
	}
}

func TestSenderWithdrawsApproverHold(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindApprover, sampleReport(), "pii-external")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, _ := e.form(e.url(tok))
	if r := e.post(e.url(tok), confirmForm(csrf, "send", []string{"d:partner.co.jp", "d:exarnple.com", "a:0"})); r.status != http.StatusForbidden {
		t.Errorf("sender sends an approver hold: %d", r.status)
	}
	if r := e.post(e.url(tok), values("csrf", csrf, "action", "cancel")); r.status != http.StatusOK {
		t.Errorf("withdraw: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateCancelled || e.releases.Load() != 0 {
		t.Errorf("state %s", got)
	}
}

func TestDeadlinePassed(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, 48*time.Hour)
	csrf, acks := e.form(e.url(tok))
	e.clock.Advance(25 * time.Hour) // past the hold's deadline, token still valid
	before := e.events(id)
	if r := e.get(e.url(tok)); r.status != http.StatusGone || !strings.Contains(r.body, "expired") {
		t.Errorf("GET: %d\n%s", r.status, r.body)
	}
	if e.events(id) != before || e.record(id).State != hold.StateHeld {
		t.Error("GET applied the deadline")
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send", acks)); r.status != http.StatusGone {
		t.Errorf("POST: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateExpired || e.releases.Load() != 0 {
		t.Errorf("state %s", got)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailures = 3; c.FailureWindow = time.Minute })
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	for range 3 {
		forged, _, _ := NewToken()
		if r := e.get(e.url(forged)); r.status != http.StatusNotFound {
			t.Fatalf("forged: %d", r.status)
		}
	}
	if r := e.get(e.url(tok)); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many attempts") {
		t.Errorf("after failures: %d", r.status)
	}
	e.clock.Advance(time.Minute)
	if r := e.get(e.url(tok)); r.status != http.StatusOK {
		t.Errorf("after the window: %d", r.status)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	forged, _, _ := NewToken()
	var rs []resp
	for _, u := range []string{e.url(tok), e.url(forged), e.url("x"), e.srv.URL + "/static/style.css",
		e.srv.URL + "/static/confirm.js", e.srv.URL + "/static/nope", e.srv.URL + "/", e.srv.URL + "/h/"} {
		rs = append(rs, e.get(u))
	}
	rs = append(rs, e.post(e.url(tok), values("action", "send")))
	req, _ := http.NewRequest(http.MethodDelete, e.url(tok), nil)
	rs = append(rs, e.do(req))
	for i, r := range rs {
		if got := r.header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("response %d (%d): CSP %q", i, r.status, got)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if got := r.header.Get(h); got != want {
				t.Errorf("response %d: %s = %q", i, h, got)
			}
		}
	}
	if ct := rs[3].header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("css type %q", ct)
	}
	for _, r := range rs {
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, " style=\"") || strings.Contains(r.body, "<style") {
			t.Errorf("inline script or style in a page")
		}
	}
}

func TestHostileContentEscaped(t *testing.T) {
	e := newEnv(t, nil)
	rep := sampleReport()
	rep.Subject = "hi\r\nSet-Cookie: x=1\r\n\r\n<script>alert(1)</script>"
	rep.Recipients.List[0].Name = "<script>alert(2)</script>\r\nX-Injected: 1"
	rep.Attachments[0].Name = "<img src=x onerror=alert(3)>.csv"
	rep.Findings[0].Location = "attachment:" + rep.Attachments[0].Name
	rep.Findings[0].Samples = []string{"<b>1234</b>"}
	id := e.holdMsg("m1", hold.KindSender, rep, "lookalike", "<script>rule</script>")
	tok := e.token(id, hold.RoleSender, time.Hour)
	r := e.get(e.url(tok))
	if r.status != http.StatusOK {
		t.Fatalf("GET: %d", r.status)
	}
	for _, bad := range []string{"<script>", "<img", "<b>"} {
		if strings.Contains(r.body, bad) {
			t.Errorf("page contains raw markup %q from the mail", bad)
		}
	}
	if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped subject missing")
	}
	if r.header.Get("Set-Cookie") != "" || r.header.Get("X-Injected") != "" {
		t.Error("header injected")
	}
	if strings.Contains(r.body, "123456789018") {
		t.Error("unmasked finding value on the page")
	}
	// The attachment's box still has to be ticked under its hostile name.
	csrf, acks := e.form(e.url(tok))
	if rr := e.post(e.url(tok), confirmForm(csrf, "send", acks)); rr.status != http.StatusOK {
		t.Errorf("send: %d", rr.status)
	}
}

func TestLanguage(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	ja := e.get(e.url(tok), "Accept-Language", "ja-JP,ja;q=0.9,en;q=0.5")
	if !strings.Contains(ja.body, `<html lang="ja">`) || !strings.Contains(ja.body, "送信する") {
		t.Error("Accept-Language ja not honoured")
	}
	en := e.get(e.url(tok)+"?lang=en", "Accept-Language", "ja")
	if !strings.Contains(en.body, `<html lang="en">`) || !strings.Contains(en.body, ">Send<") {
		t.Error("?lang=en not honoured")
	}
	if !strings.Contains(en.body, `href="/h/`+tok+`?lang=ja"`) {
		t.Error("no switch to Japanese")
	}
	// The form keeps the language of the page it came from.
	csrf, _ := e.form(e.url(tok))
	r := e.post(e.url(tok), values("csrf", csrf, "action", "cancel", "lang", "ja"))
	if !strings.Contains(r.body, "取り消しました") {
		t.Errorf("result not in Japanese:\n%s", r.body)
	}
}

func TestTokenFormat(t *testing.T) {
	text, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(text) != 43 {
		t.Errorf("token length %d", len(text))
	}
	_, h2, ok := parseToken(text)
	if !ok || h2 != hash {
		t.Error("token does not round-trip")
	}
	for _, bad := range []string{"", text[:42], text + "=", strings.ToUpper(text[:42]) + "?", text[:42] + "\n"} {
		if _, _, ok := parseToken(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	// The last character carries 4 spare bits that must be zero.
	if _, _, ok := parseToken(text[:42] + "B"); ok && text[42] != 'B' {
		t.Error("non-canonical token accepted")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []Config{
		{BaseURL: "https://sg.example/"},
		{Store: e.store, BaseURL: "sg.example"},
		{Store: e.store, BaseURL: "ftp://sg.example/"},
		{Store: e.store, BaseURL: "https://sg.example/", DefaultLang: "fr"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestBasePath(t *testing.T) {
	e := newEnv(t, nil)
	h, err := New(Config{Store: e.store, BaseURL: "https://sg.example/sendguard", Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Link("TOKEN"); got != "https://sg.example/sendguard/h/TOKEN" {
		t.Errorf("Link = %q", got)
	}
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	srv := newServer(t, h)
	r := e.get(srv + "/sendguard/h/" + tok)
	if r.status != http.StatusOK || !strings.Contains(r.body, `href="/sendguard/static/style.css"`) {
		t.Errorf("page under base path: %d", r.status)
	}
	if r := e.get(srv + "/h/" + tok); r.status != http.StatusNotFound {
		t.Errorf("page outside base path: %d", r.status)
	}
}

func TestOversizedFormRefused(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindApprover, sampleReport(), "pii-external")
	tok := e.token(id, hold.RoleApprover, time.Hour)
	csrf, _ := e.form(e.url(tok))
	r := e.post(e.url(tok), values("csrf", csrf, "action", "reject", "reason", strings.Repeat("x", maxFormBytes)))
	if r.status != http.StatusBadRequest {
		t.Errorf("oversized form: %d", r.status)
	}
	r = e.post(e.url(tok), values("csrf", csrf, "action", "reject", "reason", strings.Repeat("長", maxReasonRunes+1)))
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("over-long reason: %d", r.status)
	}
	if got := e.record(id).State; got != hold.StateHeld {
		t.Errorf("state %s", got)
	}
}

func TestDecidedElsewhereShowsOutcome(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	admin := hold.Actor{Name: "secteam@example.com", Role: "reviewer", IP: "192.0.2.7"}
	if _, err := e.store.Transition(context.Background(), id, hold.StateRejected, admin, "no"); err != nil {
		t.Fatal(err)
	}
	r := e.get(e.url(tok))
	if r.status != http.StatusConflict || !strings.Contains(r.body, "secteam@example.com") || !strings.Contains(r.body, "Rejected") {
		t.Errorf("GET: %d\n%s", r.status, r.body)
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send", acks)); r.status != http.StatusConflict {
		t.Errorf("POST: %d", r.status)
	}
	if e.releases.Load() != 0 || e.record(id).State != hold.StateRejected {
		t.Error("a decided message changed")
	}
}
