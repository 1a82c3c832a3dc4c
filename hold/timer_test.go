package hold

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestDueAndTick(t *testing.T) {
	q := &releaseQueue{}
	f := newFixture(t, Options{OnRelease: q.hook})
	ctx := context.Background()
	f.create("delay", KindDelay, 5*time.Minute)
	f.create("sender", KindSender, 10*time.Minute)
	f.create("review", KindReview, time.Hour)
	f.create("forever", KindApprover, 0)

	if next, ok, err := f.s.NextDeadline(ctx); !ok || err != nil || !next.Equal(f.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("next deadline %v %v %v", next, ok, err)
	}
	due, err := f.s.Due(ctx, f.clock.Now().Add(4*time.Minute), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("due early: %d %v", len(due), err)
	}
	due, _ = f.s.Due(ctx, f.clock.Now().Add(10*time.Minute), 10)
	if len(due) != 2 || due[0].ID != "delay" || due[1].ID != "sender" {
		t.Fatalf("due: %+v", due)
	}
	if due, _ = f.s.Due(ctx, f.clock.Now().Add(10*time.Minute), 1); len(due) != 1 {
		t.Fatalf("limit: %d", len(due))
	}

	f.clock.Advance(10 * time.Minute)
	n, err := f.s.Tick(ctx, f.clock.Now())
	if n != 2 || err != nil {
		t.Fatalf("tick: %d %v", n, err)
	}
	if st := f.state("delay"); st != StateReleased || !queued(t, f.db, "delay") || q.calls.Load() != 1 {
		t.Fatalf("delay %s queued %v", st, queued(t, f.db, "delay"))
	}
	if st := f.state("sender"); st != StateExpired {
		t.Fatalf("sender %s", st)
	}
	if st := f.state("review"); st != StateHeld {
		t.Fatalf("review %s", st)
	}
	// Nothing due twice.
	if n, _ := f.s.Tick(ctx, f.clock.Now()); n != 0 {
		t.Fatalf("second tick decided %d", n)
	}
	f.clock.Advance(time.Hour)
	if n, _ := f.s.Tick(ctx, f.clock.Now()); n != 1 || f.state("review") != StateExpired || f.state("forever") != StateHeld {
		t.Fatalf("third tick %d", n)
	}
	if _, ok, _ := f.s.NextDeadline(ctx); ok {
		t.Fatal("deadline left behind")
	}
	ev, _ := f.s.Events(ctx, "sender")
	if last := ev[len(ev)-1]; last.Actor != System || last.Action != ActionExpire {
		t.Fatalf("expiry event %+v", last)
	}
}

// A failing release hook leaves the delay held, and the next tick retries.
func TestTickRetriesFailedHook(t *testing.T) {
	q := &releaseQueue{}
	q.fail.Store(true)
	f := newFixture(t, Options{OnRelease: q.hook})
	ctx := context.Background()
	f.create("D", KindDelay, time.Minute)
	f.clock.Advance(time.Minute)
	if n, err := f.s.Tick(ctx, f.clock.Now()); n != 0 || err == nil {
		t.Fatalf("tick with failing hook: %d %v", n, err)
	}
	if f.state("D") != StateHeld || queued(t, f.db, "D") {
		t.Fatal("partial release")
	}
	q.fail.Store(false)
	if n, err := f.s.Tick(ctx, f.clock.Now()); n != 1 || err != nil || !queued(t, f.db, "D") {
		t.Fatalf("retry: %d %v", n, err)
	}
}

// A decision arriving after the deadline, before any tick, meets the
// deadline's outcome instead.
func TestLateDecisionMeetsDeadline(t *testing.T) {
	q := &releaseQueue{}
	f := newFixture(t, Options{OnRelease: q.hook})
	ctx := context.Background()
	f.create("S", KindSender, time.Minute)
	f.create("D", KindDelay, time.Minute)
	f.clock.Advance(time.Minute)

	rec, err := f.s.Transition(ctx, "S", StateReleased, alice, "")
	var de *DecidedError
	if !errors.As(err, &de) || de.State != StateExpired || de.By != System || rec.State != StateExpired {
		t.Fatalf("late release: %+v %v", rec, err)
	}
	if _, err := f.s.Transition(ctx, "D", StateCancelled, alice, ""); !errors.As(err, &de) || de.State != StateReleased {
		t.Fatalf("late cancel of delay: %v", err)
	}
	if q.calls.Load() != 1 || !queued(t, f.db, "D") || q.calls.Load() != 1 {
		t.Fatalf("delay not released exactly once: %d", q.calls.Load())
	}
	if n, _ := f.s.Tick(ctx, f.clock.Now()); n != 0 {
		t.Fatalf("tick decided %d again", n)
	}
	// Explicitly expiring after the deadline is just the expiry.
	f.create("A", KindApprover, time.Minute)
	f.clock.Advance(time.Minute)
	if rec, err := f.s.Transition(ctx, "A", StateExpired, alice, "manual"); err != nil || rec.DecidedBy != alice {
		t.Fatalf("manual expiry: %v", err)
	}
}

func TestRun(t *testing.T) {
	var released atomic.Int64
	f := newFixture(t, Options{OnRelease: func(*bbolt.Tx, *Record) error { released.Add(1); return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	f.create("D", KindDelay, time.Minute)
	f.create("C", KindSender, 0)
	if _, err := f.s.Transition(ctx, "C", StateCancelled, alice, ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx, 5*time.Millisecond, 24*time.Hour) }()

	f.clock.Advance(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for released.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if released.Load() != 1 || f.state("D") != StateReleased {
		t.Fatalf("run did not release: %d", released.Load())
	}
	// Run's purge ran at start with the cancelled record still young.
	if f.state("C") != StateCancelled {
		t.Fatal("young record purged")
	}
	if err := f.s.Run(context.Background(), 0, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero interval: %v", err)
	}
}

func TestPurge(t *testing.T) {
	var purged []string
	f := newFixture(t, Options{OnPurge: func(_ *bbolt.Tx, r *Record) error { purged = append(purged, r.ID); return nil }})
	ctx := context.Background()
	for _, id := range []string{"rej", "can", "exp", "rel"} {
		f.create(id, KindSender, time.Hour)
	}
	f.create("held", KindSender, 0)
	for i, tok := range []Token{
		{MessageID: "rej", Role: RoleSender, Expires: f.clock.Now().Add(time.Hour)},
		{MessageID: "rel", Role: RoleSender, Expires: f.clock.Now().Add(30 * time.Minute)},
		{MessageID: "rel", Role: RoleRecipientDownload, Expires: f.clock.Now().Add(48 * time.Hour)},
	} {
		tok.Hash = tokenHash(i + 1)
		if err := f.s.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	f.s.Transition(ctx, "rej", StateRejected, alice, "")
	f.s.Transition(ctx, "can", StateCancelled, alice, "")
	f.s.Transition(ctx, "rel", StateReleased, alice, "")
	f.clock.Advance(2 * time.Hour)
	f.s.Tick(ctx, f.clock.Now()) // exp expires now, two hours after the others decided
	if _, err := f.s.Transition(ctx, "held", StateReleased, alice, ""); err != nil {
		t.Fatal(err)
	}

	cutoff := f.clock.Now().Add(-time.Hour)
	n, err := f.s.Purge(ctx, cutoff)
	if err != nil || n.Records != 2 || n.Tokens != 1 || len(purged) != 2 {
		t.Fatalf("purge: %+v %v %v", n, err, purged)
	}
	for _, id := range []string{"rej", "can"} {
		if _, err := f.s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s survived: %v", id, err)
		}
	}
	for i := 1; i <= 2; i++ {
		if _, _, err := f.s.LookupToken(ctx, tokenHash(i), RoleSender, f.clock.Now()); !errors.Is(err, ErrTokenUnknown) {
			t.Fatalf("token %d survived: %v", i, err)
		}
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(3), RoleRecipientDownload, f.clock.Now()); err != nil {
		t.Fatalf("live token purged: %v", err)
	}
	for _, id := range []string{"exp", "rel", "held"} {
		if _, err := f.s.Get(ctx, id); err != nil {
			t.Fatalf("%s purged too early: %v", id, err)
		}
	}
	f.clock.Advance(30 * 24 * time.Hour)
	if n, _ := f.s.Purge(ctx, f.clock.Now()); n.Records != 1 || n.Tokens != 1 {
		t.Fatalf("second purge %+v", n)
	}
	c, _ := f.s.Counts(ctx)
	if c.ByState[StateReleased] != 2 || c.ByState[StateExpired] != 0 || c.ByState[StateRejected] != 0 {
		t.Fatalf("counts %+v", c)
	}
	res, _ := f.s.List(ctx, Filter{}, Page{})
	if len(res.Records) != 2 {
		t.Fatalf("index still lists %d", len(res.Records))
	}
	var stray int
	f.db.View(func(tx *bbolt.Tx) error {
		stray = tx.Bucket(bucketTokenMsg).Stats().KeyN + tx.Bucket(bucketTokenExp).Stats().KeyN +
			tx.Bucket(bucketTokens).Stats().KeyN + tx.Bucket(bucketReports).Stats().KeyN
		return nil
	})
	if stray != 2 { // the two released records' reports
		t.Fatalf("stray keys %d", stray)
	}
	if err := f.s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	ev, _ := f.s.Events(ctx, "rej")
	if last := ev[len(ev)-1]; last.Action != ActionPurge {
		t.Fatalf("no purge event: %+v", last)
	}
	if _, err := f.s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// Run wakes at the next deadline, not only at its interval.
func TestRunWakesAtDeadline(t *testing.T) {
	f := newFixture(t, Options{})
	s, err := New(f.db, Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := sampleRecord("D", KindDelay)
	r.CreatedAt = time.Now()
	r.Deadline = time.Now().Add(50 * time.Millisecond)
	if err := s.Create(ctx, r, System, ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, time.Hour, 0) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.state("D") == StateHeld && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := f.state("D"); st != StateReleased {
		t.Fatalf("D %s", st)
	}
}

// A deadline whose transition keeps failing with an error the store does
// not know (a message gone from another store) is retried with backoff,
// never in a tight loop.
func TestRunBacksOffFailingDeadline(t *testing.T) {
	var calls atomic.Int64
	gone := errors.New("no such message")
	f := newFixture(t, Options{OnDecided: func(*bbolt.Tx, *Record, State) error { calls.Add(1); return gone }})
	f.create("X", KindReview, time.Minute)
	f.clock.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx, time.Minute, 0) }()
	time.Sleep(1500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n < 1 || n > 3 {
		t.Fatalf("failing deadline tried %d times in 1.5 s, want 1 to 3", n)
	}
}

// A hold created while Run waits on a long interval fires at its own
// deadline, not at the next tick.
func TestRunWakesOnCreate(t *testing.T) {
	var released atomic.Int64
	f := newFixture(t, Options{OnRelease: func(*bbolt.Tx, *Record) error { released.Add(1); return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx, time.Hour, 0) }()
	time.Sleep(50 * time.Millisecond) // Run is now waiting on its hour
	rec := sampleRecord("D", KindDelay)
	rec.CreatedAt = f.clock.Now()
	rec.Deadline = f.clock.Now() // due at once
	if err := f.s.Create(ctx, rec, System, "delay"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for released.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if released.Load() != 1 {
		t.Fatal("a new hold due now waited for the next tick")
	}
}
