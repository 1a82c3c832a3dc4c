package queue

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// The store-neutral contract is queuetest (run in bbolt_test.go); these
// tests check what is particular to this implementation.

var admin = hold.Actor{Name: "admin", Role: "admin"}

func openTest(t testing.TB) (*Queue, *int) {
	t.Helper()
	sp, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	wakes := new(int)
	var mu sync.Mutex
	q, err := Open(sp, Options{OnStep: func() { mu.Lock(); *wakes++; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	return q, wakes
}

// accept spools a message in state st, with a hold when st is held.
func accept(t testing.TB, q *Queue, st spool.State, kind hold.Kind) string {
	t.Helper()
	id := spool.NewID()
	bw, err := q.Spool.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	sum, err := bw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: st, MailFrom: "alice@example.com", SHA256: sum,
		Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
	err = q.Spool.Accept(rec, func(tx *bbolt.Tx) error {
		if st != spool.StateHeld {
			return nil
		}
		return q.Holds.CreateTx(tx, &hold.Record{ID: id, Kind: kind, Sender: "alice@example.com",
			Deadline: time.Now().Add(time.Hour), Decision: hold.Decision{Actions: []string{"hold_review", "link"}}}, hold.System, "test")
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func state(t testing.TB, q *Queue, id string) *spool.Record {
	t.Helper()
	r, err := q.Spool.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every transition that records a step wakes the step worker after its
// commit.
func TestStepsWakeTheWorker(t *testing.T) {
	q, wakes := openTest(t)
	id := accept(t, q, spool.StateHeld, hold.KindReview)
	if _, err := q.Decide(context.Background(), id, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	if *wakes == 0 {
		t.Fatal("the step worker was not woken")
	}
}

// Illegal transitions are typed errors naming the state the message is in.
func TestIllegalTransitions(t *testing.T) {
	ctx := context.Background()
	q, _ := openTest(t)
	queued := accept(t, q, spool.StateQueued, "")
	_, err := q.Decide(ctx, queued, hold.StateReleased, admin, "", "")
	var se *StateError
	if !errors.As(err, &se) || !errors.Is(err, ErrIllegal) || se.State != "queued" {
		t.Fatalf("release of a queued message: %v", err)
	}
	if _, err := q.Decide(ctx, spool.NewID(), hold.StateReleased, admin, "", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("release of an unknown message: %v", err)
	}
	held := accept(t, q, spool.StateHeld, hold.KindReview)
	if _, err := q.Decide(ctx, held, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	// Delivered meanwhile: a second release says so.
	if err := q.Spool.Update(held, func(_ *bbolt.Tx, r *spool.Record) error {
		r.State, r.Steps, r.FinishedAt = spool.StateDelivered, nil, time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = q.Decide(ctx, held, hold.StateReleased, admin, "", "")
	if !errors.As(err, &se) || se.State != "delivered" || err.Error() != "message "+held+" was already delivered" {
		t.Fatalf("release of a delivered message: %v", err)
	}
	if err := q.Delete(ctx, held, admin, ""); !errors.As(err, &se) || se.State != "delivered" {
		t.Fatalf("delete of a delivered message: %v", err)
	}
}

// Deletion goes through the state machine from every unfinished state.
func TestDelete(t *testing.T) {
	ctx := context.Background()
	q, _ := openTest(t)
	held := accept(t, q, spool.StateHeld, hold.KindReview)
	queued := accept(t, q, spool.StateQueued, "")
	released := accept(t, q, spool.StateHeld, hold.KindReview)
	if _, err := q.Decide(ctx, released, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{held, queued, released} {
		if err := q.Delete(ctx, id, admin, "cleanup"); err != nil {
			t.Fatal(err)
		}
		r := state(t, q, id)
		if r.State != spool.StateDeleted {
			t.Fatalf("state %s after delete", r.State)
		}
		for _, s := range r.Steps {
			if s.Kind == spool.StepRelease {
				t.Fatal("release step survived the deletion")
			}
		}
		if _, err := q.Spool.OpenBody(id); err == nil {
			t.Fatal("body kept after delete")
		}
		ev, _ := q.Holds.Events(ctx, id)
		if last := ev[len(ev)-1]; last.Action != hold.ActionDelete || last.Actor != admin {
			t.Fatalf("last event %+v", last)
		}
	}
	if _, ok, _ := q.Holds.NextDeadline(ctx); ok {
		t.Fatal("the deleted hold's deadline is still pending")
	}
	if n, err := q.Holds.Tick(ctx, time.Now().Add(2*time.Hour)); n != 0 || err != nil {
		t.Fatalf("tick after delete: %d %v", n, err)
	}
	if err := q.Delete(ctx, held, admin, ""); !errors.Is(err, ErrIllegal) {
		t.Fatalf("second delete: %v", err)
	}
}

// A message parked after a delivery crash is held without a hold record;
// an admin can still delete it.
func TestParkedMessageCanBeDeleted(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	q, err := Open(sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := &spool.Record{ID: spool.NewID(), Kind: spool.KindMail, MailFrom: "alice@example.com",
		Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
	if err := q.Accept(ctx, Acceptance{Message: rec}); err != nil {
		t.Fatal(err)
	}
	if err := q.Park(ctx, rec.ID, "internal error during delivery"); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, rec.ID, hold.Actor{Name: "admin", Role: "admin"}, "broken"); err != nil {
		t.Fatal(err)
	}
	if r, _ := q.Get(ctx, rec.ID); r.State != spool.StateDeleted {
		t.Fatalf("state %s, want deleted", r.State)
	}
}

// An acceptance with a rewrite step commits the message released with
// that step; the step's result either queues it with its copies (and
// their TLS requirements) or holds it, each in one transaction, and only
// while it is still released with that step first.
func TestAcceptWithRewriteStep(t *testing.T) {
	ctx := context.Background()
	q, _ := openTest(t)
	acceptRewrite := func() string {
		t.Helper()
		id := spool.NewID()
		rec := &spool.Record{ID: id, Kind: spool.KindMail, MailFrom: "alice@example.com", Inline: []byte("Subject: x\r\n\r\nb\r\n"),
			Rcpts: []spool.Rcpt{{Addr: "B@Partner.test", Status: spool.RcptPending}, {Addr: "c@example.com", Status: spool.RcptPending}}}
		step := &spool.Step{Kind: spool.StepRewrite, Actions: []string{"encrypt"}, PasswordDelivery: "recipient"}
		if err := q.Accept(ctx, Acceptance{Message: rec, Rewrite: step}); err != nil {
			t.Fatal(err)
		}
		r := state(t, q, id)
		if r.State != spool.StateReleased || len(r.Steps) != 1 || r.Steps[0].Kind != spool.StepRewrite || r.Steps[0].PasswordDelivery != "recipient" {
			t.Fatalf("accepted as %s with steps %+v", r.State, r.Steps)
		}
		if ids, _ := q.WithSteps(ctx, 10); len(ids) == 0 {
			t.Fatal("the rewrite step is not in the steps index")
		}
		return id
	}

	id := acceptRewrite()
	if err := q.FinishStep(ctx, id, spool.StepNotice, StepResult{}); !errors.Is(err, ErrStepStale) {
		t.Fatalf("finishing a step of another kind: %v", err)
	}
	err := q.FinishStep(ctx, id, spool.StepRewrite, StepResult{Release: &Released{BodySuffix: "enc",
		RequireTLS: map[string]bool{"b@partner.test": true}}})
	if err != nil {
		t.Fatal(err)
	}
	r := state(t, q, id)
	if r.State != spool.StateQueued || r.BodySuffix != "enc" || len(r.Steps) != 0 || !r.Rcpts[0].RequireTLS || r.Rcpts[1].RequireTLS {
		t.Fatalf("after the rewrite: %s, copy %q, steps %v, rcpts %+v", r.State, r.BodySuffix, r.Steps, r.Rcpts)
	}

	id = acceptRewrite()
	hr := &hold.Record{ID: id, Kind: hold.KindReview, Sender: "alice@example.com", Deadline: time.Now().Add(time.Hour),
		Decision: hold.Decision{Actions: []string{"hold_review"}}}
	held := &HeldStep{Hold: hr, Reason: "rewrite failed: disk full", Applied: []string{"hold_review"}}
	if err := q.FinishStep(ctx, id, spool.StepRewrite, StepResult{Hold: held}); err != nil {
		t.Fatal(err)
	}
	r = state(t, q, id)
	if r.State != spool.StateHeld || len(r.Steps) != 0 || len(r.Applied) != 1 || r.Applied[0] != "hold_review" {
		t.Fatalf("after a failed rewrite: %s, steps %v, applied %v", r.State, r.Steps, r.Applied)
	}
	got, err := q.Hold(ctx, id)
	if err != nil || got.State != hold.StateHeld || got.Kind != hold.KindReview {
		t.Fatalf("hold %+v, %v", got, err)
	}
	if evs, _ := q.Events(ctx, id); len(evs) != 1 || evs[0].Reason != held.Reason {
		t.Fatalf("events %+v", evs)
	}
	// Held now, not released: a second result of the same step is stale.
	if err := q.FinishStep(ctx, id, spool.StepRewrite, StepResult{Hold: held}); !errors.Is(err, ErrStepStale) {
		t.Fatalf("a second result: %v", err)
	}
	// The hold can be decided like any other: it is one.
	if _, err := q.Decide(ctx, id, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}

	// An admin's delete before the rewrite ran leaves nothing to run.
	id = acceptRewrite()
	if err := q.Delete(ctx, id, admin, "cleanup"); err != nil {
		t.Fatal(err)
	}
	if r := state(t, q, id); r.State != spool.StateDeleted || len(r.Steps) != 0 {
		t.Fatalf("deleted before its rewrite: %s, steps %v", r.State, r.Steps)
	}
	if err := q.FinishStep(ctx, id, spool.StepRewrite, StepResult{Release: &Released{BodySuffix: "enc"}}); !errors.Is(err, ErrStepStale) {
		t.Fatalf("the rewrite's result after the delete: %v", err)
	}
}
