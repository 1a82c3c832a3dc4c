package intake

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// The stage in process, on a real spool and queue: every outcome of a
// transaction and what each leaves on disk.

// fakeInspector returns a fixed verdict (or error, or panic) and records
// what it discarded.
type fakeInspector struct {
	verdict   disposition.Verdict
	err       error
	panics    bool
	inspected atomic.Int32
	discarded atomic.Int32
}

func (f *fakeInspector) Inspect(_ context.Context, in *disposition.Inbound) (*disposition.Verdict, error) {
	f.inspected.Add(1)
	if f.panics {
		panic("analysis crashed")
	}
	b, err := in.Store.OpenBody(in.Env.QueueID)
	if err != nil {
		return nil, errors.New("the body is not spooled before inspection")
	}
	b.Close()
	if f.err != nil {
		return nil, f.err
	}
	v := f.verdict
	return &v, nil
}

func (f *fakeInspector) Discard(*disposition.Verdict) { f.discarded.Add(1) }

// failingQueue is the real queue whose Accept can be made to fail.
type failingQueue struct {
	*queue.Queue
	fail error
}

func (q *failingQueue) Accept(ctx context.Context, a queue.Acceptance) error {
	if q.fail != nil {
		return q.fail
	}
	return q.Queue.Accept(ctx, a)
}

type env struct {
	stage *Stage
	store *spool.Store
	q     *failingQueue
	reg   *prometheus.Registry
	woken []string
}

func newEnv(t *testing.T, insp Inspector) *env {
	t.Helper()
	store, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	q, err := queue.Open(store, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, q: &failingQueue{Queue: q}, reg: prometheus.NewRegistry()}
	opts := Options{Store: store, Queue: e.q, Metrics: gateway.NewMetrics(e.reg, nil), Hostname: "gw.test", MaxLineLength: 1000,
		QueueLifetime: time.Hour, OnQueued: func(id string) { e.woken = append(e.woken, id) }}
	if insp != nil {
		opts.Inspector = insp
	}
	if e.stage, err = New(opts); err != nil {
		t.Fatal(err)
	}
	return e
}

// received is the count of accepted messages.
func (e *env) received(t *testing.T) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sendguard_received_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no sendguard_received_total")
	return 0
}

var client = Client{IP: netip.MustParseAddr("192.0.2.7"), Helo: "mta.example.com", TLS: true}

const mail = "From: <alice@example.com>\r\nTo: <bob@partner.test>\r\nSubject: hi\r\n\r\nbody\r\n"

// run is one transaction as the front drives it.
func (e *env) run(body io.Reader) (*Tx, Outcome) {
	tx := e.stage.Start(gateway.Envelope{MailFrom: "alice@example.com"})
	tx.AddRcpt(spool.Rcpt{Addr: "bob@partner.test", Status: spool.RcptPending})
	if out := tx.Body(client, body); out != nil {
		return tx, *out
	}
	return tx, tx.Commit(context.Background())
}

// kept reports whether anything of id is kept: the record, or the body
// (a file, inline or in memory).
func (e *env) kept(t *testing.T, id string) bool {
	t.Helper()
	_, err := e.store.Get(id)
	if err != nil && !errors.Is(err, spool.ErrNotFound) {
		t.Fatal(err)
	}
	_, ferr := os.Stat(e.store.BodyPath(id))
	b, berr := e.store.OpenBody(id)
	if berr == nil {
		b.Close()
	}
	return err == nil || ferr == nil || berr == nil
}

func (e *env) body(t *testing.T, id string) []byte {
	t.Helper()
	b, err := e.store.OpenBody(id)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAcceptedIsCommittedWithReceivedField(t *testing.T) {
	e := newEnv(t, nil)
	tx, out := e.run(strings.NewReader(mail))
	if out.Kind != Accepted || out.QueueID != tx.ID() || out.Facts == nil || out.Facts.Status != "queued" {
		t.Fatalf("outcome %+v", out)
	}
	rec, err := e.store.Get(out.QueueID)
	if err != nil || rec.State != spool.StateQueued || rec.Helo != "mta.example.com" || rec.ClientIP != "192.0.2.7" ||
		len(rec.Rcpts) != 1 || rec.Expires.Sub(rec.ReceivedAt) != time.Hour {
		t.Fatalf("record %+v, %v", rec, err)
	}
	body := e.body(t, out.QueueID)
	if !rec.InlineBody {
		t.Error("a small message was not kept inline")
	}
	want := "Received: from mta.example.com ([192.0.2.7])\r\n\tby gw.test (sendguard) with ESMTPS id " + out.QueueID +
		"\r\n\tfor <bob@partner.test>;"
	if !strings.HasPrefix(string(body), want) || !strings.HasSuffix(string(body), mail) {
		t.Fatalf("body %q", body)
	}
	if len(e.woken) != 1 || e.woken[0] != out.QueueID {
		t.Fatalf("runner woken for %v", e.woken)
	}
	if n := e.received(t); n != 1 {
		t.Fatalf("received %v", n)
	}
	tx.Abort() // after Commit: nothing happens
	if !e.kept(t, out.QueueID) {
		t.Fatal("Abort after Commit removed the message")
	}
}

func TestNothingPersistentBeforeCommit(t *testing.T) {
	insp := &fakeInspector{}
	e := newEnv(t, insp)
	tx := e.stage.Start(gateway.Envelope{MailFrom: "alice@example.com", Rcpts: []spool.Rcpt{{Addr: "bob@partner.test"}}})
	if out := tx.Body(client, strings.NewReader(mail)); out != nil {
		t.Fatalf("body: %v", out)
	}
	if _, err := e.store.Get(tx.ID()); !errors.Is(err, spool.ErrNotFound) {
		t.Fatalf("a record exists before Commit: %v", err)
	}
	if len(e.woken) != 0 || e.received(t) != 0 {
		t.Fatal("counted or woken before Commit")
	}
	tx.Abort()
	if e.kept(t, tx.ID()) || insp.discarded.Load() != 1 {
		t.Fatalf("abort left the message (discarded %d)", insp.discarded.Load())
	}
	if out := tx.Commit(context.Background()); out.Kind != TempFailed {
		t.Fatalf("commit after abort: %v", out)
	}
	if e.kept(t, tx.ID()) {
		t.Fatal("commit after abort kept the message")
	}
}

func TestHeld(t *testing.T) {
	insp := &fakeInspector{verdict: disposition.Verdict{Actions: []string{"hold_review"}}}
	e := newEnv(t, insp)
	// The hold record names the message; the verdict is built per message.
	tx := e.stage.Start(gateway.Envelope{MailFrom: "alice@example.com", Rcpts: []spool.Rcpt{{Addr: "bob@partner.test"}}})
	insp.verdict.Hold = &hold.Record{ID: tx.ID(), Kind: hold.KindReview, Sender: "alice@example.com",
		Decision: hold.Decision{Actions: []string{"hold_review"}}}
	if out := tx.Body(client, strings.NewReader(mail)); out != nil {
		t.Fatalf("body: %v", out)
	}
	out := tx.Commit(context.Background())
	if out.Kind != Held || out.Facts.Status != "held" {
		t.Fatalf("outcome %v %+v", out, out.Facts)
	}
	rec, err := e.store.Get(out.QueueID)
	if err != nil || rec.State != spool.StateHeld {
		t.Fatalf("record %+v, %v", rec, err)
	}
	if h, err := e.q.Holds.Get(context.Background(), out.QueueID); err != nil || h.State != hold.StateHeld {
		t.Fatalf("hold %+v, %v", h, err)
	}
	if insp.discarded.Load() != 0 {
		t.Fatal("a committed verdict was discarded")
	}
}

func TestRejectedKeepsNothing(t *testing.T) {
	insp := &fakeInspector{verdict: disposition.Verdict{Reject: true, RejectReason: "Confidential files may not leave",
		Rules: []string{"confidential"}, Actions: []string{"reject"}}}
	e := newEnv(t, insp)
	_, out := e.run(strings.NewReader(mail))
	if out.Kind != Rejected || out.Reason != "Confidential files may not leave" || len(out.Rules) != 1 ||
		out.Rules[0] != "confidential" || out.Facts == nil || out.Facts.Status != "rejected" {
		t.Fatalf("outcome %+v", out)
	}
	if e.kept(t, out.QueueID) || insp.discarded.Load() != 1 || len(e.woken) != 0 {
		t.Fatalf("rejection kept the message or did not discard (discarded %d)", insp.discarded.Load())
	}
}

// errReader fails after its data, as a dropped connection does.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDataRefused(t *testing.T) {
	lost := errors.New("connection reset")
	cases := []struct {
		name  string
		body  io.Reader
		kind  DataKind
		limit int
	}{
		{"bare lf", strings.NewReader("A: b\r\n\r\nx\ny\r\n"), DataBareLineEnding, 0},
		{"long line", strings.NewReader("A: b\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"), DataLineTooLong, 1000},
		{"loop", strings.NewReader(strings.Repeat("Received: x\r\n", 51) + "\r\nbody\r\n"), DataLoop, 0},
		{"header", strings.NewReader("X: " + strings.Repeat("aaaaaaa\r\n ", maxHeaderBytes/9) + "b\r\n\r\n"), DataHeaderTooBig, 0},
		{"reader error", &errReader{data: mail[:20], err: lost}, DataUnreadable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			insp := &fakeInspector{}
			e := newEnv(t, insp)
			_, out := e.run(c.body)
			if out.Kind != DataRefused || out.Data != c.kind || out.LineLimit != c.limit {
				t.Fatalf("outcome %+v", out)
			}
			if c.kind == DataUnreadable && out.Err != lost {
				t.Fatalf("reader error %v, want the reader's own", out.Err)
			}
			if e.kept(t, out.QueueID) || insp.inspected.Load() != 0 {
				t.Fatal("refused data was kept or inspected")
			}
		})
	}
}

func TestTemporaryFailures(t *testing.T) {
	t.Run("inspector error", func(t *testing.T) {
		e := newEnv(t, &fakeInspector{err: errors.New("dictionary unreadable")})
		_, out := e.run(strings.NewReader(mail))
		if out.Kind != TempFailed || out.Op != "inspect message" || e.kept(t, out.QueueID) {
			t.Fatalf("outcome %v", out)
		}
	})
	t.Run("inspector panic", func(t *testing.T) {
		e := newEnv(t, &fakeInspector{panics: true})
		_, out := e.run(strings.NewReader(mail))
		if out.Kind != TempFailed || out.Op != "inspect message" || !strings.Contains(out.Err.Error(), "panic") || e.kept(t, out.QueueID) {
			t.Fatalf("outcome %v", out)
		}
	})
	t.Run("commit fails", func(t *testing.T) {
		insp := &fakeInspector{}
		e := newEnv(t, insp)
		e.q.fail = errors.New("disk full")
		_, out := e.run(strings.NewReader(mail))
		if out.Kind != TempFailed || out.Op != "commit message record" || e.kept(t, out.QueueID) ||
			insp.discarded.Load() != 1 || len(e.woken) != 0 || e.received(t) != 0 {
			t.Fatalf("outcome %v, discarded %d", out, insp.discarded.Load())
		}
	})
}

func TestInspectorSwapTakesTheNextMessage(t *testing.T) {
	first, second := &fakeInspector{}, &fakeInspector{}
	e := newEnv(t, first)
	tx := e.stage.Start(gateway.Envelope{MailFrom: "alice@example.com", Rcpts: []spool.Rcpt{{Addr: "bob@partner.test"}}})
	e.stage.SetInspector(second) // between MAIL and DATA: this message gets the new one
	if out := tx.Body(client, strings.NewReader(mail)); out != nil {
		t.Fatal(out)
	}
	if out := tx.Commit(context.Background()); out.Kind != Accepted {
		t.Fatal(out)
	}
	e.stage.SetInspector(nil)
	if _, out := e.run(strings.NewReader(mail)); out.Kind != Accepted {
		t.Fatal(out)
	}
	if first.inspected.Load() != 0 || second.inspected.Load() != 1 {
		t.Fatalf("inspected by first %d, second %d", first.inspected.Load(), second.inspected.Load())
	}
}
