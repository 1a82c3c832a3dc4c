package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/token"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/gateway/front"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// The accept → hold → decide → step → deliver pipeline in one process:
// the real SMTP server on loopback, the real spool, hold, link and zip
// code, and a recording transport at the end. A fault hook stops a step
// at a crash point as kill -9 would; the test then reopens everything on
// the same data directory, as a restart does.

// recorder is the next hop: it keeps what each delivery carried.
type recorder struct {
	mu  sync.Mutex
	got []recorded
	// streamOver, if > 0, reads a body larger than that through to the
	// end, as a next hop's socket takes it, and keeps only its size: a
	// latency measurement then does not charge the gateway's process with
	// a peer's copy of every megabyte and the garbage collection it costs.
	streamOver int64
}

type recorded struct {
	ID, Subject string
	Kind        spool.Kind
	Rcpts       []string
	Data        []byte // nil if streamed (recorder.streamOver)
	Size        int64
}

func (r *recorder) deliverWith(st func() *spool.Store) delivery.Transport {
	return transportFunc(func(_ context.Context, d *delivery.Delivery) []delivery.Result {
		rc, err := d.Body()
		if err != nil {
			panic(err)
		}
		var data []byte
		var size int64
		if r.streamOver > 0 && d.Size > r.streamOver {
			size, _ = io.Copy(io.Discard, rc)
		} else {
			data, _ = io.ReadAll(rc)
			size = int64(len(data))
		}
		rc.Close()
		rec, _ := st().Get(d.QueueID)
		got := recorded{ID: d.QueueID, Kind: rec.Kind, Subject: rec.Subject, Data: data, Size: size}
		var out []delivery.Result
		for _, rcpt := range d.Rcpts {
			got.Rcpts = append(got.Rcpts, rcpt.Addr)
			out = append(out, delivery.Result{Rcpt: rcpt.Addr, Delivered: true, Code: 250})
		}
		r.mu.Lock()
		r.got = append(r.got, got)
		r.mu.Unlock()
		return out
	})
}

type transportFunc func(context.Context, *delivery.Delivery) []delivery.Result

func (f transportFunc) Deliver(ctx context.Context, d *delivery.Delivery) []delivery.Result {
	return f(ctx, d)
}

func (r *recorder) count(match func(recorded) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if match(g) {
			n++
		}
	}
	return n
}

// pipe is one running gateway on a data directory.
type pipe struct {
	t      testing.TB
	dir    string
	cfg    *config.Config
	store  *spool.Store
	q      *queue.Queue
	links  *link.Store
	steps  *disposition.StepRunner
	runner *delivery.Runner
	srv    *front.Server
	intake *intake.Stage
	insp   *disposition.PolicyInspector
	reg    *prometheus.Registry
	addr   string
	ln     net.Listener
	done   chan error
}

func newToken() (string, [32]byte, error) {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]), sha256.Sum256(b[:]), nil
}

func openPipe(t testing.TB, dir, policyYAML string, rec *recorder, fault func(string) error) *pipe {
	t.Helper()
	cfg, err := config.Parse("test", config.DefaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	cfg.SMTP.TrustedNetworks = []string{"127.0.0.0/8"}
	log := slog.New(slog.DiscardHandler)
	p := &pipe{t: t, dir: dir, cfg: cfg}
	if p.store, err = spool.Open(dir, log); err != nil {
		t.Fatal(err)
	}
	p.reg = prometheus.NewRegistry()
	metrics := gateway.NewMetrics(p.reg, func() map[string]int { return nil })
	internal := func(d string) bool { return strings.EqualFold(d, "example.com") }
	wake := disposition.NewSignal()
	history, err := delivery.NewHistory(p.store.DB())
	if err != nil {
		t.Fatal(err)
	}
	// Reports are kept when a test sets p.insp.KeepReports.
	if p.q, err = queue.Open(p.store, queue.Options{OnStep: wake.Notify, Learner: history,
		Reports: &reports.Bolt{DB: p.store.DB()}}); err != nil {
		t.Fatal(err)
	}
	p.runner = delivery.NewRunner(cfg, p.store, p.q, rec.deliverWith(func() *spool.Store { return p.store }), nil, log, metrics)
	builder, err := notify.NewBuilder(notify.Options{From: "sendguard <sendguard@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	notifier := &disposition.Notifier{Store: p.store, Builder: builder, NewToken: newToken, Lifetime: time.Hour,
		Link: func(tok string) string { return "http://127.0.0.1/h/" + tok }}
	key, err := link.LoadOrCreateKey(filepath.Join(dir, link.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if p.links, err = link.New(p.store.DB(), filepath.Join(dir, "links"), key, link.Options{Audit: p.q.Holds}); err != nil {
		t.Fatal(err)
	}
	pages, err := link.NewHandler(link.Config{Store: p.links, BaseURL: "http://127.0.0.1/", From: "sendguard@example.com",
		Secret: bytes.Repeat([]byte("k"), 32), Mailer: func(context.Context, string, []byte) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	rw := &disposition.Rewriter{Store: p.store, Internal: internal, Fault: fault,
		Encryptor: &disposition.Encryptor{Store: p.store, Notices: builder, Internal: internal, Lifetime: time.Hour},
		Linker: &disposition.Linker{Store: p.store, Links: p.links, Pages: pages, Notices: builder,
			TTL: 24 * time.Hour, Lifetime: time.Hour}}
	p.steps = &disposition.StepRunner{Queue: p.q, Store: p.store, Rewriter: rw, Notifier: notifier,
		Log: log, Fault: fault, Wakeup: wake, OnQueued: p.runner.Wake, Counted: func(actions []string) {
			for _, a := range actions {
				metrics.Actions.WithLabelValues(a).Inc()
			}
		}}
	ppath := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(ppath, []byte(policyYAML), 0o600)
	pol, err := policy.Load(ppath)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	p.insp = &disposition.PolicyInspector{Rules: rules, Notifier: notifier, Rewriter: rw, Log: log}
	if p.intake, err = intake.New(intake.Options{Store: p.store, Queue: p.q, Inspector: p.insp, Metrics: metrics,
		Hostname: front.Hostname(cfg), MaxLineLength: cfg.SMTP.MaxLineLength, QueueLifetime: cfg.Delivery.QueueLifetime, OnQueued: p.runner.Wake}); err != nil {
		t.Fatal(err)
	}
	if p.srv, err = front.NewServer(front.Options{Config: cfg, Log: log, Intake: p.intake, Metrics: metrics}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr, p.ln = ln.Addr().String(), ln
	p.done = make(chan error, 1)
	go func() { p.done <- p.srv.Serve(ln) }()
	return p
}

// close stops listening and closes the store: after a simulated crash
// nothing is cleaned up first, as after kill -9. (Every test session has
// ended with QUIT by then.)
func (p *pipe) close() {
	p.ln.Close()
	<-p.done
	p.store.Close()
}

// drain runs recorded steps and delivery attempts until nothing is due.
// It returns the first step error (a simulated crash ends the process's
// work at once).
func (p *pipe) drain() error {
	ctx := context.Background()
	for range 20 {
		if _, err := p.steps.RunOnce(ctx); err != nil {
			return err
		}
		ids, _, err := p.store.Due(time.Now(), 1000)
		if err != nil {
			p.t.Fatal(err)
		}
		steps, _ := p.store.WithSteps(10)
		if len(ids) == 0 && len(steps) == 0 {
			return nil
		}
		for _, id := range ids {
			p.runner.Attempt(ctx, id)
		}
	}
	p.t.Fatal("pipeline did not settle")
	return nil
}

// waitQueued waits (up to 10 s) until a released message's steps have
// run and it is queued for delivery.
func (p *pipe) waitQueued(id string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r, _ := p.store.Get(id); r.State == spool.StateQueued {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const pipeRcpt = "buyer@partner.test"

func pipeMail(tag string) []byte {
	csv := base64.StdEncoding.EncodeToString([]byte("品番,数量\r\nA-100,3\r\n"))
	return []byte("From: <alice@example.com>\r\nTo: <" + pipeRcpt + ">, <carol@example.com>\r\nSubject: quote " + tag +
		"\r\nMessage-ID: <" + tag + "@test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nattached\r\n--b1\r\nContent-Type: text/csv\r\n" +
		"Content-Disposition: attachment; filename=\"quote.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + csv + "\r\n--b1--\r\n")
}

func (p *pipe) send(tag string) string {
	p.t.Helper()
	return p.sendData(tag, pipeMail(tag))
}

// sendData sends data, whose subject carries tag, and returns its queue ID.
func (p *pipe) sendData(tag string, data []byte) string {
	p.t.Helper()
	c, err := smtp.Dial(p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.com"); err != nil {
		p.t.Fatal(err)
	}
	if err := c.Mail("alice@example.com", nil); err != nil {
		p.t.Fatal(err)
	}
	for _, r := range []string{pipeRcpt, "carol@example.com"} {
		if err := c.Rcpt(r, nil); err != nil {
			p.t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		p.t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		p.t.Fatal(err)
	}
	c.Quit()
	var id string
	p.store.ForEach(func(r *spool.Record) bool {
		if r.Kind == spool.KindMail && strings.Contains(r.Subject, tag) {
			id = r.ID
		}
		return id == ""
	})
	if id == "" {
		p.t.Fatal("message not spooled")
	}
	return id
}

func pipePolicy(actions string) string {
	params := ""
	if strings.Contains(actions, "delay") {
		params = "\n    params:\n      delay_minutes: 1"
	}
	if strings.Contains(actions, "hold_approver") {
		params = "\n    params:\n      approvers: [boss@example.com]"
	}
	return `version: 1
rules:
  - name: guarded
    when: recipients.external > 0 && size(attachments) > 0
    actions: [` + actions + `]` + params + `
    reason:
      en: guarded
  - name: default
    when: "true"
    actions: [deliver]
`
}

var errCrash = errors.New("crash")

var dlRE = regexp.MustCompile(`/d/([A-Za-z0-9_-]{43})`)

// TestPipelineMatrix: every hold the policy has, with every rewrite,
// released, rejected, expired and deleted, with a crash injected at every
// step of what follows the decision. Whatever the crash point, after the
// restart the mail is delivered once or never, with exactly one of each
// notice, and exactly one working link package.
func TestPipelineMatrix(t *testing.T) {
	t.Parallel()
	holds := []string{"hold_review", "hold_sender", "hold_approver", "delay"}
	rewrites := []string{"", "bcc", "link", "encrypt", "bcc, link", "bcc, encrypt"}
	if testing.Short() || raceEnabled {
		// Every step still runs: the combinations pass each crash point.
		holds, rewrites = holds[:1], []string{"", "bcc, link", "encrypt"}
	}
	outcomes := []string{"release", "reject", "expire", "delete"}
	points := map[string][]string{
		"release": {"", "bcc written", "links created", "zip written", "release applied", "release committed", "notice written"},
		"reject":  {"", "notice written"},
		"expire":  {"", "notice written"},
		"delete":  {""},
	}
	for _, h := range holds {
		for _, rw := range rewrites {
			for _, oc := range outcomes {
				if h == "delay" && (oc == "expire") {
					continue // a delay's deadline releases it
				}
				for _, pt := range points[oc] {
					if !reaches(h, rw, oc, pt) {
						continue
					}
					// The steps after a decision do not depend on the kind
					// of hold: every crash point runs for one kind, the
					// others run through and crash once mid-way.
					if h != "hold_review" && pt != "" && pt != "release applied" && pt != "notice written" {
						continue
					}
					name := fmt.Sprintf("%s+%s/%s/crash=%s", h, rw, oc, pt)
					t.Run(name, func(t *testing.T) { t.Parallel(); runCase(t, h, rw, oc, pt) })
				}
			}
		}
	}
}

// reaches reports whether a case passes crash point pt at all.
func reaches(holdAction, rewrites, outcome, pt string) bool {
	switch pt {
	case "bcc written":
		return strings.Contains(rewrites, "bcc")
	case "links created":
		return strings.Contains(rewrites, "link")
	case "zip written":
		return strings.Contains(rewrites, "encrypt")
	case "notice written":
		return !(outcome == "release" && holdAction == "delay")
	}
	return true
}

func runCase(t *testing.T, holdAction, rewrites, outcome, point string) {
	actions := holdAction
	if rewrites != "" {
		actions += ", " + rewrites
	}
	dir := t.TempDir()
	rec := &recorder{}
	crashed := false
	fault := func(p string) error {
		if p == point && !crashed {
			crashed = true
			return errCrash
		}
		return nil
	}
	p := openPipe(t, dir, pipePolicy(actions), rec, fault)
	id := p.send("m1")
	if r, _ := p.store.Get(id); r.State != spool.StateHeld {
		t.Fatalf("accepted in state %s, want held", r.State)
	}
	ctx := context.Background()
	adm := hold.Actor{Name: "admin", Role: "admin"}
	var err error
	switch {
	case outcome == "release" && holdAction == "delay":
		_, err = p.q.Holds.Tick(ctx, time.Now().Add(2*time.Minute))
	case outcome == "release":
		_, err = p.q.Decide(ctx, id, hold.StateReleased, adm, "ok", "")
	case outcome == "reject":
		_, err = p.q.Decide(ctx, id, hold.StateRejected, adm, "no", "")
	case outcome == "expire":
		_, err = p.q.Holds.Tick(ctx, time.Now().Add(100*time.Hour))
	case outcome == "delete":
		err = p.q.Delete(ctx, id, adm, "spam")
	}
	if err != nil {
		t.Fatalf("%s: %v", outcome, err)
	}
	err = p.drain()
	if point != "" {
		if !crashed {
			t.Fatalf("crash point %q never reached", point)
		}
		if !disposition.IsFault(err) {
			t.Fatalf("drain after crash: %v", err)
		}
		p.close()
		p = openPipe(t, dir, pipePolicy(actions), rec, nil)
		err = p.drain()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	if outcome == "delete" {
		// The deleted message's deadline passes in silence: no error,
		// nothing left to fire, no notice.
		if _, err := p.q.Holds.Tick(ctx, time.Now().Add(200*time.Hour)); err != nil {
			t.Fatalf("deadline of a deleted message: %v", err)
		}
		if _, ok, err := p.q.Holds.NextDeadline(ctx); err != nil || ok {
			t.Fatalf("a deleted message keeps a deadline (%v, %v)", ok, err)
		}
		if err := p.drain(); err != nil {
			t.Fatal(err)
		}
	}
	mails := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail })
	byNotice := func(what string) int {
		return rec.count(func(g recorded) bool { return g.Kind == spool.KindNotice && strings.HasPrefix(g.Subject, what) })
	}
	final, _ := p.store.Get(id)
	if outcome != "release" {
		if mails != 0 {
			t.Fatalf("%s mail delivered %d times", outcome, mails)
		}
		want := map[string]spool.State{"reject": spool.StateRejected, "expire": spool.StateExpired, "delete": spool.StateDeleted}[outcome]
		if final.State != want {
			t.Fatalf("state %s, want %s", final.State, want)
		}
		wantNotice := 1
		if outcome == "delete" {
			wantNotice = 0
		}
		notice := map[string]string{"reject": "rejected", "expire": "expired", "delete": "deleted"}[outcome]
		if n := byNotice(notice + " notice"); n != wantNotice {
			t.Fatalf("%d %s notices, want %d", n, notice, wantNotice)
		}
		return
	}
	hasLink := strings.Contains(rewrites, "link")
	hasEnc := strings.Contains(rewrites, "encrypt")
	// Link copies go one per recipient; otherwise one delivery carries both.
	wantMails := 1
	if hasLink {
		wantMails = 2
	}
	if mails != wantMails || final.State != spool.StateDelivered {
		t.Fatalf("released mail: %d deliveries (want %d), state %s", mails, wantMails, final.State)
	}
	pw := byNotice("password notice")
	ln := byNotice("link notice")
	if (pw == 1) != hasEnc || pw > 1 || (ln == 1) != hasLink || ln > 1 {
		t.Fatalf("password notices %d, link notices %d (encrypt %v, link %v)", pw, ln, hasEnc, hasLink)
	}
	wantReleased := 1
	if holdAction == "delay" {
		wantReleased = 0 // the sender's own delay ran out: nothing to tell
	}
	if n := byNotice("released notice"); n != wantReleased {
		t.Fatalf("%d released notices, want %d", n, wantReleased)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, g := range rec.got {
		if g.Kind != spool.KindMail {
			continue
		}
		body := string(g.Data)
		if strings.Contains(rewrites, "bcc") && regexp.MustCompile(`(?m)^To:.*`+regexp.QuoteMeta(pipeRcpt)).MatchString(body) {
			t.Fatal("external recipient still visible after bcc")
		}
		if (hasLink || hasEnc) && strings.Contains(body, "text/csv") {
			t.Fatal("attachment left in the mail")
		}
		if hasLink {
			m := dlRE.FindStringSubmatch(decodeBodies(body))
			if m == nil {
				t.Fatalf("no link in the copy to %v", g.Rcpts)
			}
			tok, err := token.Parse(m[1])
			if err != nil {
				t.Fatal(err)
			}
			acc, err := p.links.Resolve(context.Background(), tok.Hash())
			if err != nil || !acc.Info.RevokedAt.IsZero() {
				t.Fatalf("delivered link does not work: %v", err)
			}
		}
	}
	if hasLink {
		if live := p.liveLinks(id); live != 1 {
			t.Fatalf("%d live link packages, want 1", live)
		}
	}
}

// liveLinks counts message id's link packages not revoked.
func (p *pipe) liveLinks(id string) int {
	infos, _ := p.links.ByMessage(context.Background(), id)
	live := 0
	for _, in := range infos {
		if in.RevokedAt.IsZero() {
			live++
		}
	}
	return live
}

// decodeBodies undoes base64 and quoted-printable line by line enough to
// find a URL in a rendered note.
func decodeBodies(s string) string {
	var b strings.Builder
	b.WriteString(s)
	for _, line := range strings.Split(s, "\r\n") {
		if d, err := base64.StdEncoding.DecodeString(line); err == nil {
			b.Write(d)
		}
	}
	return strings.ReplaceAll(b.String(), "=\r\n", "")
}

// TestConcurrentReleasesDeliverOnce: thirty reviewers release one held
// link mail at the same instant while the step worker runs; each recipient
// gets exactly one copy.
func TestConcurrentReleasesDeliverOnce(t *testing.T) {
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review, link"), rec, nil)
	defer p.close()
	id := p.send("c1")
	ctx, cancel := context.WithCancel(context.Background())
	stepsDone := make(chan struct{})
	go func() { p.steps.Run(ctx); close(stepsDone) }()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := hold.Actor{Name: fmt.Sprintf("reviewer%d", i), Role: "reviewer"}
			if _, err := p.q.Decide(context.Background(), id, hold.StateReleased, actor, "", ""); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, queue.ErrIllegal) {
				t.Errorf("release: %v", err)
			}
		}()
	}
	wg.Wait()
	p.waitQueued(id)
	cancel()
	<-stepsDone
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(func(g recorded) bool { return g.Kind == spool.KindMail }); ok != 1 || n != 2 {
		t.Fatalf("%d releases succeeded, %d copies delivered (want 1 and 2)", ok, n)
	}
}

var _ adminapi.AdminQueue = (*queue.Queue)(nil)

// TestAdminSaysWhatHappened: refused actions answer with the message's
// real state in plain words, never a store's internal error.
func TestAdminSaysWhatHappened(t *testing.T) {
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pipePolicy("hold_review, bcc"), rec, nil)
	defer p.close()
	id := p.send("a1")
	h := (&adminapi.Admin{Store: p.store, Queue: p.q, Log: slog.New(slog.DiscardHandler)}).Handler()
	do := func(method, path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w.Code, w.Body.String()
	}
	if code, body := do("POST", "/v1/hold/"+id+"/release"); code != 200 {
		t.Fatalf("release: %d %s", code, body)
	}
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", "/v1/hold/" + id + "/release", 409, "message " + id + " was already delivered"},
		{"POST", "/v1/hold/" + id + "/reject", 409, "was already delivered"},
		{"DELETE", "/v1/queue/" + id, 409, "was already delivered"},
		{"POST", "/v1/queue/" + id + "/retry", 409, "was already delivered"},
		{"POST", "/v1/queue/0000000000000000000ZZ/retry", 404, "no message 0000000000000000000ZZ"},
		{"POST", "/v1/hold/0000000000000000000ZZ/release", 404, "no message 0000000000000000000ZZ"},
	}
	for _, c := range cases {
		code, body := do(c.method, c.path)
		if code != c.code || !strings.Contains(body, c.want) || strings.Contains(body, "hold:") {
			t.Errorf("%s %s: %d %s, want %d %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
}

// TestStepWorkerKeepsGOMAXPROCS: the step worker runs a release without
// changing GOMAXPROCS (each change stops the world); with SpareProc, the
// A/B variant, it runs with one P more.
func TestStepWorkerKeepsGOMAXPROCS(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	for _, spare := range []bool{false, true} {
		t.Run(fmt.Sprintf("SpareProc=%v", spare), func(t *testing.T) {
			var mu sync.Mutex
			var seen []int
			fault := func(string) error {
				mu.Lock()
				seen = append(seen, runtime.GOMAXPROCS(0))
				mu.Unlock()
				return nil
			}
			p := openPipe(t, t.TempDir(), pipePolicy("hold_review, encrypt"), &recorder{}, fault)
			defer p.close()
			p.steps.SpareProc = spare
			id := p.send("g1")
			mu.Lock()
			seen = nil // acceptance's crash points run on the session, not the worker
			mu.Unlock()
			ctx, cancel := context.WithCancel(context.Background())
			stepsDone := make(chan struct{})
			go func() { p.steps.Run(ctx); close(stepsDone) }()
			if _, err := p.q.Decide(context.Background(), id, hold.StateReleased, hold.Actor{Name: "r", Role: "reviewer"}, "", ""); err != nil {
				t.Fatal(err)
			}
			p.waitQueued(id)
			cancel()
			<-stepsDone
			want := base
			if spare {
				want = base + 1
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 {
				t.Fatal("the release ran no step")
			}
			for _, n := range seen {
				if n != want {
					t.Fatalf("GOMAXPROCS %v during the release's steps, want %d throughout", seen, want)
				}
			}
			if n := runtime.GOMAXPROCS(0); n != base {
				t.Errorf("GOMAXPROCS %d after the worker stopped, want %d", n, base)
			}
		})
	}
}
