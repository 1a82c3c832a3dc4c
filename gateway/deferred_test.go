package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/spool"
)

// Rewrites deferred after the 250 (disposition.Deferral): the pipeline of
// pipeline_test.go with every message large enough to defer.

// withDeferral makes p defer every rewrite, with slots at once.
func (p *pipe) withDeferral(slots int) *disposition.Deferral {
	d := disposition.NewDeferral(context.Background(), p.steps, 0, slots)
	p.insp.Deferral = d
	return d
}

// TestDeferredRewriteMatrix: each rewrite a policy can ask of a message it
// does not hold, deferred, with a crash injected at every point of the
// step. Whatever the point, after the restart the message is delivered
// once, rewritten, with exactly one password or link notice.
func TestDeferredRewriteMatrix(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"encrypt":      {"", "zip written", "rewrite applied", "rewrite committed"},
		"bcc, encrypt": {"", "bcc written", "zip written", "rewrite applied"},
		"link":         {"", "links created", "rewrite applied", "rewrite committed"},
	}
	for actions, points := range cases {
		for _, pt := range points {
			t.Run(fmt.Sprintf("%s/crash=%s", actions, pt), func(t *testing.T) {
				t.Parallel()
				runDeferredCase(t, actions, pt)
			})
		}
	}
}

func runDeferredCase(t *testing.T, actions, point string) {
	dir := t.TempDir()
	rec := &recorder{}
	var mu sync.Mutex
	crashed := false
	fault := func(p string) error {
		mu.Lock()
		defer mu.Unlock()
		if p == point && !crashed {
			crashed = true
			return errCrash
		}
		return nil
	}
	p := openPipe(t, dir, pipePolicy(actions), rec, fault)
	d := p.withDeferral(2)
	id := p.send("d1")
	d.Wait()
	if point != "" {
		mu.Lock()
		c := crashed
		mu.Unlock()
		if !c {
			t.Fatalf("crash point %q never reached", point)
		}
		r, _ := p.store.Get(id)
		if point != "rewrite committed" && (r.State != spool.StateReleased || len(r.Steps) != 1 || r.Steps[0].Kind != spool.StepRewrite) {
			t.Fatalf("after a crash at %q: state %s, steps %v", point, r.State, r.Steps)
		}
		p.close()
		p = openPipe(t, dir, pipePolicy(actions), rec, nil)
	}
	defer p.close()
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	final, _ := p.store.Get(id)
	hasLink := strings.Contains(actions, "link")
	wantMails := 1
	if hasLink {
		wantMails = 2 // one copy per recipient
	}
	mails := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail })
	if mails != wantMails || final.State != spool.StateDelivered {
		t.Fatalf("%d deliveries (want %d), state %s", mails, wantMails, final.State)
	}
	byNotice := func(what string) int {
		return rec.count(func(g recorded) bool { return g.Kind == spool.KindNotice && strings.HasPrefix(g.Subject, what) })
	}
	pw, ln := byNotice("password notice"), byNotice("link notice")
	if hasLink && (ln != 1 || pw != 0) || !hasLink && (pw != 1 || ln != 0) {
		t.Fatalf("password notices %d, link notices %d", pw, ln)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, g := range rec.got {
		if g.Kind != spool.KindMail {
			continue
		}
		if strings.Contains(string(g.Data), "text/csv") {
			t.Fatal("attachment left in the mail")
		}
		if strings.Contains(actions, "bcc") && strings.Contains(string(g.Data), "To: <"+pipeRcpt) {
			t.Fatal("external recipient still visible after bcc")
		}
	}
	if hasLink {
		if live := p.liveLinks(id); live != 1 {
			t.Fatalf("%d live link packages, want 1", live)
		}
	}
}

// TestDeferredRewriteAfterReply: the client has its 250 while the
// rewrite is still running; the message is then released with its
// rewrite step, and queued once the step commits. With the only slot
// taken, the next message is rewritten before its reply, as without a
// deferral.
func TestDeferredRewriteAfterReply(t *testing.T) {
	rec := &recorder{}
	gate := make(chan struct{})
	// Only the deferred step reaches "rewrite applied" (its zip written,
	// its commit to come); the second message's rewrite before its reply
	// does not. Blocking on its first "zip written" instead raced: when
	// the second message's zip came first, that reply waited out the
	// timeout and the step ran free.
	fault := func(p string) error {
		if p == "rewrite applied" {
			select {
			case <-gate:
			case <-time.After(10 * time.Second):
			}
		}
		return nil
	}
	p := openPipe(t, t.TempDir(), pipePolicy("encrypt"), rec, fault)
	defer p.close()
	d := p.withDeferral(1)
	t0 := time.Now()
	id := p.send("r1")
	if time.Since(t0) > 5*time.Second {
		t.Fatal("the reply waited for the deferred rewrite")
	}
	r, _ := p.store.Get(id)
	if r.State != spool.StateReleased || len(r.Steps) != 1 || r.Steps[0].Kind != spool.StepRewrite {
		t.Fatalf("answered in state %s with steps %v, want released with a rewrite step", r.State, r.Steps)
	}
	// The slot is taken: the second message is rewritten before its 250.
	id2 := p.send("r2")
	if r2, _ := p.store.Get(id2); r2.State != spool.StateQueued || r2.BodySuffix == "" || len(r2.Steps) != 0 {
		t.Fatalf("second message answered in state %s, copy %q, steps %v; want queued, rewritten", r2.State, r2.BodySuffix, r2.Steps)
	}
	close(gate)
	d.Wait()
	if r, _ = p.store.Get(id); r.State != spool.StateQueued || r.BodySuffix == "" || len(r.Steps) != 0 {
		t.Fatalf("after the step: state %s, copy %q, steps %v; want queued with its encrypted copy", r.State, r.BodySuffix, r.Steps)
	}
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail }); n != 2 {
		t.Fatalf("%d messages delivered, want 2", n)
	}
	if n := rec.count(func(g recorded) bool {
		return g.Kind == spool.KindNotice && strings.HasPrefix(g.Subject, "password notice")
	}); n != 2 {
		t.Fatalf("%d password notices, want 2", n)
	}
}

// TestDeferredRewriteFailureHolds: a deferred rewrite that cannot be done
// holds the message for review, as acceptance would have, with the
// sender's notice; nothing leaves unprotected, and a reviewer's release
// delivers it.
func TestDeferredRewriteFailureHolds(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		testDeferredRewriteFailure(t, nil, pipeMail("f1"), "encryption is not configured", func(p *pipe) {
			p.steps.Rewriter.Encryptor = nil
		})
	})
	// A rewrite that panics on a message: held and seen, not retried
	// forever in the released state.
	t.Run("panic", func(t *testing.T) {
		panicky := func(point string) error {
			if point == "zip written" {
				panic("broken rewrite")
			}
			return nil
		}
		testDeferredRewriteFailure(t, panicky, pipeMail("f1"), "rewrite panic: broken rewrite", func(*pipe) {})
	})
	// Real input the zip cannot take: a signed message's attachment
	// cannot be replaced without breaking the signature.
	t.Run("signed", func(t *testing.T) {
		testDeferredRewriteFailure(t, nil, signedMail("f1"), "signed or encrypted", func(*pipe) {})
	})
}

// TestDeferredRewriteCounted: a deferred rewrite that queues its message
// counts the decision's action when its step ends, and its report keeps
// that action.
func TestDeferredRewriteCounted(t *testing.T) {
	p := openPipe(t, t.TempDir(), pipePolicy("encrypt"), &recorder{}, nil)
	defer p.close()
	p.insp.KeepReports = true
	d := p.withDeferral(2)
	id := p.sendData("c1", pipeMail("c1"))
	d.Wait()
	if r, _ := p.store.Get(id); r.State != spool.StateQueued && r.State != spool.StateDelivered {
		t.Fatalf("state %s after the rewrite", r.State)
	}
	p.expectOutcome(t, id, "encrypt")
}

// expectOutcome checks that message id's stored report and the actions
// metric both say action, and nothing else.
func (p *pipe) expectOutcome(t *testing.T, id, action string) {
	t.Helper()
	var got []string
	rs := &reports.Bolt{DB: p.store.DB()}
	if _, err := rs.Scan(context.Background(), time.Time{}, func(r *reports.Report) error {
		if r.QueueID == id {
			got = append(got, strings.Join(r.Actions, "+"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != action {
		t.Errorf("stored reports of %s say %q, want [%s]", id, got, action)
	}
	mfs, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "sendguard_policy_actions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "action" {
					counted[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	if len(counted) != 1 || counted[action] != 1 {
		t.Errorf("sendguard_policy_actions_total %v, want %s once", counted, action)
	}
}

// signedMail is pipeMail signed as a whole (multipart/signed, S/MIME).
func signedMail(tag string) []byte {
	m := string(pipeMail(tag))
	head, body, _ := strings.Cut(m, "\r\n\r\n")
	head = strings.Replace(head, "Content-Type: multipart/mixed; boundary=\"b1\"",
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"s1\"", 1)
	return []byte(head + "\r\n\r\n--s1\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" + body +
		"--s1\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==\r\n--s1--\r\n")
}

func testDeferredRewriteFailure(t *testing.T, fault func(string) error, mail []byte, reason string, breakIt func(*pipe)) {
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pipePolicy("encrypt"), rec, fault)
	defer p.close()
	p.insp.KeepReports = true
	d := p.withDeferral(2)
	breakIt(p)
	id := p.sendData("f1", mail)
	d.Wait()
	r, _ := p.store.Get(id)
	if r.State != spool.StateHeld || len(r.Steps) != 0 || strings.Join(r.Applied, ",") != "hold_review" {
		t.Fatalf("state %s, steps %v, applied %v; want held for review", r.State, r.Steps, r.Applied)
	}
	// The report kept for policy replay and the actions metric say what
	// was done, as for a rewrite that fails before the reply.
	p.expectOutcome(t, id, "hold_review")
	ctx := context.Background()
	hr, err := p.q.Holds.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if hr.Kind != hold.KindReview || hr.State != hold.StateHeld || hr.Sender != "alice@example.com" ||
		!strings.Contains(hr.Subject, "f1") || hr.Recipients.Total != 2 || hr.Recipients.External != 1 ||
		!hr.Deadline.After(time.Now()) || len(hr.Report) == 0 {
		t.Fatalf("hold record %+v", hr)
	}
	evs, _ := p.q.Events(ctx, id)
	if len(evs) == 0 || evs[0].Action != hold.ActionHold || !strings.Contains(evs[0].Reason, reason) {
		t.Fatalf("audit events %+v", evs)
	}
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail }); n != 0 {
		t.Fatalf("held message delivered %d times", n)
	}
	if n := rec.count(func(g recorded) bool { return g.Kind == spool.KindNotice }); n == 0 {
		t.Fatal("no notice of the hold")
	}
	if _, err := p.q.Decide(ctx, id, hold.StateReleased, hold.Actor{Name: "admin", Role: "admin"}, "ok", ""); err != nil {
		t.Fatal(err)
	}
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail }); n != 1 {
		t.Fatalf("released message delivered %d times", n)
	}
}
