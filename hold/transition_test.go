package hold

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestTransitionTable tries every (kind, target) pair from held and then
// every target again from the resulting final state.
func TestTransitionTable(t *testing.T) {
	kinds := []Kind{KindSender, KindApprover, KindReview, KindDelay}
	targets := []State{StateHeld, StateReleased, StateRejected, StateCancelled, StateExpired, "bogus"}
	for _, k := range kinds {
		for _, to := range targets {
			t.Run(fmt.Sprintf("%s-%s", k, to), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, Options{})
				ctx := context.Background()
				f.create("M", k, 24*time.Hour)
				want := to == StateReleased || to == StateRejected || to == StateCancelled ||
					(to == StateExpired && k != KindDelay)
				rec, err := f.s.Transition(ctx, "M", to, alice, "because")
				if !want {
					if !errors.Is(err, ErrIllegalTransition) {
						t.Fatalf("want illegal, got %v", err)
					}
					if st := f.state("M"); st != StateHeld {
						t.Fatalf("state changed to %s", st)
					}
					if ev, _ := f.s.Events(ctx, "M"); len(ev) != 1 {
						t.Fatalf("illegal transition left %d events", len(ev))
					}
					return
				}
				if err != nil {
					t.Fatalf("legal transition: %v", err)
				}
				if rec.State != to || rec.DecidedBy != alice || rec.Reason != "because" || !rec.DecidedAt.Equal(f.clock.Now()) {
					t.Fatalf("record %+v", rec)
				}
				if (to == StateReleased) != (rec.Mode == ModeAsIs) {
					t.Fatalf("mode %q for %s", rec.Mode, to)
				}
				// From a final state every target is "already decided".
				for _, again := range targets {
					if again == "bogus" {
						continue // an unknown state is a bad argument, checked first
					}
					r2, err := f.s.Transition(ctx, "M", again, alice, "")
					var de *DecidedError
					if !errors.As(err, &de) || !errors.Is(err, ErrAlreadyDecided) {
						t.Fatalf("%s again to %s: %v", to, again, err)
					}
					if de.State != to || de.By != alice || !de.At.Equal(rec.DecidedAt) || r2.State != to {
						t.Fatalf("decided error %+v", de)
					}
				}
				ev, err := f.s.Events(ctx, "M")
				if err != nil || len(ev) != 2 || ev[1].From != StateHeld || ev[1].To != to || ev[1].Actor != alice {
					t.Fatalf("events %+v %v", ev, err)
				}
				c, _ := f.s.Counts(ctx)
				if c.ByState[StateHeld] != 0 || c.ByState[to] != 1 || c.HeldByKind[k] != 0 {
					t.Fatalf("counts %+v", c)
				}
			})
		}
	}
}

func TestTransitionModes(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	for i, m := range []ReleaseMode{ModeAsIs, ModeBcc, ModeEncrypt} {
		id := fmt.Sprint("M", i)
		f.create(id, KindSender, 0)
		rec, err := f.s.Transition(ctx, id, StateReleased, alice, "", WithMode(m))
		if err != nil || rec.Mode != m {
			t.Fatalf("%s: %+v %v", m, rec, err)
		}
		ev, _ := f.s.Events(ctx, id)
		if ev[len(ev)-1].Mode != m {
			t.Fatalf("event mode %q", ev[len(ev)-1].Mode)
		}
	}
	f.create("X", KindSender, 0)
	if _, err := f.s.Transition(ctx, "X", StateRejected, alice, "", WithMode(ModeBcc)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("mode on reject: %v", err)
	}
	if _, err := f.s.Transition(ctx, "X", StateReleased, alice, "", WithMode("zip")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown mode: %v", err)
	}
	if _, err := f.s.Transition(ctx, "nope", StateReleased, alice, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.s.Transition(cctx, "X", StateReleased, alice, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if st := f.state("X"); st != StateHeld {
		t.Fatalf("X %s", st)
	}
}

// releaseQueue stands in for the spool's outbound queue: the hook writes
// into the same transaction, as the gateway's does.
type releaseQueue struct {
	calls atomic.Int64
	fail  atomic.Bool
}

var bucketTestQueue = []byte("test_queue")

func (q *releaseQueue) hook(tx *bbolt.Tx, rec *Record) error {
	q.calls.Add(1)
	b, err := tx.CreateBucketIfNotExists(bucketTestQueue)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(rec.ID), []byte(rec.Mode)); err != nil {
		return err
	}
	if q.fail.Load() {
		return errors.New("queue full")
	}
	return nil
}

func queued(t *testing.T, db *bbolt.DB, id string) bool {
	t.Helper()
	var ok bool
	db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketTestQueue); b != nil {
			ok = b.Get([]byte(id)) != nil
		}
		return nil
	})
	return ok
}

func TestReleaseHookRollsBack(t *testing.T) {
	q := &releaseQueue{}
	var decided atomic.Int64
	f := newFixture(t, Options{
		OnRelease: q.hook,
		OnDecided: func(tx *bbolt.Tx, rec *Record, from State) error {
			if from != StateHeld {
				return fmt.Errorf("from %s", from)
			}
			decided.Add(1)
			return nil
		},
	})
	ctx := context.Background()
	f.create("M", KindApprover, 0)
	f.s.AddToken(ctx, Token{Hash: tokenHash(1), MessageID: "M", Role: RoleApprover, Expires: f.clock.Now().Add(time.Hour)})
	_, headBefore, _ := f.s.Head(ctx)

	q.fail.Store(true)
	if _, err := f.s.TransitionWithToken(ctx, tokenHash(1), RoleApprover, StateReleased, alice, "ok"); err == nil {
		t.Fatal("hook error not returned")
	}
	if st := f.state("M"); st != StateHeld {
		t.Fatalf("state %s after failed hook", st)
	}
	if queued(t, f.db, "M") {
		t.Fatal("hook's write survived the rollback")
	}
	if _, headAfter, _ := f.s.Head(ctx); headAfter != headBefore {
		t.Fatal("audit event survived the rollback")
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(1), RoleApprover, f.clock.Now()); err != nil {
		t.Fatalf("token consumed by failed transition: %v", err)
	}
	if c, _ := f.s.Counts(ctx); c.ByState[StateHeld] != 1 || c.ByState[StateReleased] != 0 {
		t.Fatalf("counts %+v", c)
	}
	if decided.Load() != 0 {
		t.Fatal("decided hook ran after the release hook failed")
	}

	q.fail.Store(false)
	rec, err := f.s.TransitionWithToken(ctx, tokenHash(1), RoleApprover, StateReleased, alice, "ok", WithMode(ModeEncrypt))
	if err != nil || rec.State != StateReleased {
		t.Fatalf("retry: %+v %v", rec, err)
	}
	if !queued(t, f.db, "M") || q.calls.Load() != 2 || decided.Load() != 1 {
		t.Fatalf("queued %v calls %d decided %d", queued(t, f.db, "M"), q.calls.Load(), decided.Load())
	}
	if _, err := f.s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRace has 50 goroutines decide one message at once, by id and by
// token, with different outcomes, while the deadline timer also fires:
// exactly one wins and the release hook runs at most once.
func TestRace(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			q := &releaseQueue{}
			f := newFixture(t, Options{OnRelease: q.hook})
			ctx := context.Background()
			f.create("M", KindApprover, time.Minute)
			err := f.db.Update(func(tx *bbolt.Tx) error {
				for i := range 50 {
					if err := f.s.AddTokenTx(tx, Token{Hash: tokenHash(i), MessageID: "M", Role: RoleApprover, Expires: f.clock.Now().Add(time.Hour)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			targets := []State{StateReleased, StateReleased, StateRejected, StateCancelled}
			var wins, decided atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var err error
					to := targets[i%len(targets)]
					if i%2 == 0 {
						_, err = f.s.Transition(ctx, "M", to, alice, fmt.Sprint(i))
					} else {
						_, err = f.s.TransitionWithToken(ctx, tokenHash(i), RoleApprover, to, alice, fmt.Sprint(i))
					}
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, ErrAlreadyDecided):
						decided.Add(1)
					default:
						t.Errorf("goroutine %d: %v", i, err)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := f.s.Tick(ctx, f.clock.Now().Add(2*time.Minute)); err != nil {
					t.Errorf("tick: %v", err)
				}
			}()
			close(start)
			wg.Wait()
			rec, _ := f.s.Get(ctx, "M")
			tickWon := rec.DecidedBy == System
			if tickWon {
				if wins.Load() != 0 || decided.Load() != 50 || rec.State != StateExpired {
					t.Fatalf("tick won but wins %d decided %d state %s", wins.Load(), decided.Load(), rec.State)
				}
			} else if wins.Load() != 1 || decided.Load() != 49 {
				t.Fatalf("wins %d decided %d", wins.Load(), decided.Load())
			}
			wantCalls := int64(0)
			if rec.State == StateReleased {
				wantCalls = 1
			}
			if q.calls.Load() != wantCalls {
				t.Fatalf("release hook called %d times, state %s", q.calls.Load(), rec.State)
			}
			ev, _ := f.s.Events(ctx, "M")
			if len(ev) != 2 {
				t.Fatalf("%d events", len(ev))
			}
			used := 0
			for i := 1; i < 50; i += 2 {
				if _, _, err := f.s.LookupToken(ctx, tokenHash(i), RoleApprover, f.clock.Now()); errors.Is(err, ErrTokenUsed) {
					used++
				}
			}
			want := 0
			if n, err := strconv.Atoi(rec.Reason); err == nil && n%2 == 1 {
				want = 1 // the winner came with a token
			}
			if used != want {
				t.Fatalf("used tokens %d, want %d (winner %q)", used, want, rec.Reason)
			}
		})
	}
}

// An admin deletion is a transition like any other: audited, final, and
// the deadline goes with it.
func TestDeleteIsATransition(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.create("X", KindReview, time.Minute)
	if _, err := f.s.Transition(ctx, "X", StateDeleted, alice, "spam"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.s.NextDeadline(ctx); ok {
		t.Fatal("deadline of a deleted hold left behind")
	}
	var de *DecidedError
	if _, err := f.s.Transition(ctx, "X", StateReleased, alice, ""); !errors.As(err, &de) || de.State != StateDeleted {
		t.Fatalf("release after delete: %v", err)
	}
	ev, _ := f.s.Events(ctx, "X")
	if last := ev[len(ev)-1]; last.Action != ActionDelete || last.To != StateDeleted {
		t.Fatalf("delete event %+v", last)
	}
}
