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
