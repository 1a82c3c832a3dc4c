package queue

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// Every end other than delivery reports the final record once, after the
// commit: rejection, cancellation, expiry, deletion (held or queued). A
// release does not: the message goes on to delivery, which logs its end.
func TestOnFinished(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	var mu sync.Mutex
	ended := map[string]spool.State{}
	q, err := Open(sp, Options{OnFinished: func(r *spool.Record) {
		mu.Lock()
		defer mu.Unlock()
		if _, twice := ended[r.ID]; twice {
			t.Errorf("%s reported twice", r.ID)
		}
		ended[r.ID] = r.State
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rejected, cancelled, released := accept(t, q, spool.StateHeld, hold.KindReview), accept(t, q, spool.StateHeld, hold.KindSender), accept(t, q, spool.StateHeld, hold.KindReview)
	deletedHeld, deletedQueued := accept(t, q, spool.StateHeld, hold.KindReview), accept(t, q, spool.StateQueued, "")
	expired := accept(t, q, spool.StateHeld, hold.KindApprover)
	for id, to := range map[string]hold.State{rejected: hold.StateRejected, cancelled: hold.StateCancelled, released: hold.StateReleased} {
		if _, err := q.Decide(ctx, id, to, admin, "x", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{deletedHeld, deletedQueued} {
		if err := q.Delete(ctx, id, admin, "cleanup"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Holds.Tick(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := map[string]spool.State{rejected: spool.StateRejected, cancelled: spool.StateCancelled,
		deletedHeld: spool.StateDeleted, deletedQueued: spool.StateDeleted, expired: spool.StateExpired}
	mu.Lock()
	defer mu.Unlock()
	if len(ended) != len(want) {
		t.Fatalf("ended %v, want %v", ended, want)
	}
	for id, st := range want {
		if ended[id] != st {
			t.Errorf("%s ended %s, want %s", id, ended[id], st)
		}
	}
}
