package delivery

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// A mail still waiting after delayWarning gets one "delayed" DSN, only
// for recipients whose NOTIFY allows it, and never a second one.
func TestDelayWarningOnce(t *testing.T) {
	st, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse("test", config.DefaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]spool.Rcpt
	build := func(_ *spool.Record, rcpts []spool.Rcpt, _ io.Reader) ([]byte, error) {
		calls = append(calls, rcpts)
		return []byte("Subject: dsn\r\n\r\nreport\r\n"), nil
	}
	tempFail := transportFunc(func(_ context.Context, d *Delivery) []Result {
		var out []Result
		for _, rc := range d.Rcpts {
			out = append(out, Result{Rcpt: rc.Addr, Temporary: true, Code: 451, Enhanced: "4.4.1", Message: "try later"})
		}
		return out
	})
	r := NewRunner(cfg, st, openQueue(t, st), tempFail, build, slog.New(slog.DiscardHandler), gateway.NewMetrics(prometheus.NewRegistry(), func() map[string]int { return nil }))
	id := spool.NewID()
	bw, _ := st.Create(id)
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	sum, _ := bw.Commit()
	now := time.Now()
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateQueued, MailFrom: "alice@example.com", SHA256: sum,
		ReceivedAt: now.Add(-5 * time.Hour), NextAttempt: now, Expires: now.Add(time.Hour),
		Rcpts: []spool.Rcpt{{Addr: "a@partner.test", Status: spool.RcptPending},
			{Addr: "b@partner.test", Status: spool.RcptPending, Notify: "FAILURE"},
			{Addr: "c@partner.test", Status: spool.RcptPending, Notify: "FAILURE,DELAY"}}}
	if err := st.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.Attempt(ctx, id)
	if len(calls) != 1 || len(calls[0]) != 2 || calls[0][0].Addr != "a@partner.test" || calls[0][1].Addr != "c@partner.test" ||
		calls[0][0].Status != spool.RcptPending {
		t.Fatalf("delay DSN recipients: %+v", calls)
	}
	n := 0
	st.ForEach(func(r *spool.Record) bool {
		if r.Kind == spool.KindDSN && r.Subject == "Delayed Mail (still being retried)" && r.Rcpts[0].Addr == "alice@example.com" {
			n++
		}
		return true
	})
	if n != 1 {
		t.Fatalf("%d delay DSNs queued, want 1", n)
	}
	st.Update(id, func(_ *bbolt.Tx, r *spool.Record) error { r.NextAttempt = time.Now(); return nil })
	r.Attempt(ctx, id)
	if len(calls) != 1 {
		t.Fatalf("a second delay warning was sent")
	}
}

// A recipient whose 250 was marked by a process that died before
// committing the attempt's result is not sent again after restart, and is
// recorded as delivered with the peer's reply.
func TestAcceptedIsNotSentAgain(t *testing.T) {
	dir := t.TempDir()
	st, err := spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("test", config.DefaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	id := spool.NewID()
	bw, _ := st.Create(id)
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	sum, _ := bw.Commit()
	now := time.Now()
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateQueued, MailFrom: "alice@example.com", SHA256: sum,
		ReceivedAt: now, NextAttempt: now, Expires: now.Add(time.Hour),
		Rcpts: []spool.Rcpt{{Addr: "a@partner.test", Status: spool.RcptPending}, {Addr: "b@partner.test", Status: spool.RcptPending}}}
	if err := st.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	// First process: a@ is accepted and marked, then the process dies
	// before the attempt's result is committed (the store is closed
	// without it).
	log := slog.New(slog.DiscardHandler)
	metrics := gateway.NewMetrics(prometheus.NewRegistry(), func() map[string]int { return nil })
	first := NewRunner(cfg, st, openQueue(t, st), nil, nil, log, metrics)
	first.markAccepted(log, id, []Result{{Rcpt: "a@partner.test", Delivered: true, Code: 250, Enhanced: "2.0.0",
		Message: "queued as A1", Remote: "hop", FromPeer: true}})
	st.Close()

	st, err = spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sent []string
	second := transportFunc(func(_ context.Context, d *Delivery) []Result {
		var out []Result
		for _, rc := range d.Rcpts {
			sent = append(sent, rc.Addr)
			out = append(out, Result{Rcpt: rc.Addr, Delivered: true, Code: 250, Message: "queued as B1", FromPeer: true})
		}
		return out
	})
	r := NewRunner(cfg, st, openQueue(t, st), second, nil, log, gateway.NewMetrics(prometheus.NewRegistry(), func() map[string]int { return nil }))
	r.Attempt(context.Background(), id)
	if len(sent) != 1 || sent[0] != "b@partner.test" {
		t.Fatalf("sent again after restart: %v", sent)
	}
	got, err := st.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != spool.StateDelivered || got.Rcpts[0].Status != spool.RcptDelivered || got.Rcpts[0].Message != "queued as A1" ||
		got.Rcpts[0].Remote != "hop" {
		t.Fatalf("record after restart: %+v", got)
	}
	if m, _ := st.Delivered(id); len(m) != 0 {
		t.Fatalf("marks left after the result was committed: %+v", m)
	}
}

type transportFunc func(context.Context, *Delivery) []Result

func (f transportFunc) Deliver(ctx context.Context, d *Delivery) []Result { return f(ctx, d) }

func openQueue(t *testing.T, st *spool.Store) *queue.Queue {
	q, err := queue.Open(st, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}
