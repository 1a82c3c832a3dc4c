package spool

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func spoolOne(t testing.TB, s *Store, state State, next time.Time) string {
	t.Helper()
	id := NewID()
	bw, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	sum, err := bw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	rec := &Record{ID: id, Kind: KindMail, State: state, MailFrom: "a@example.com", SHA256: sum,
		Rcpts: []Rcpt{{Addr: "b@ext.test", Status: RcptPending}}, NextAttempt: next}
	if err := s.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAcceptDueAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	now := time.Now()
	a := spoolOne(t, s, StateQueued, now.Add(-time.Second))
	b := spoolOne(t, s, StateQueued, now.Add(time.Hour))
	h := spoolOne(t, s, StateHeld, time.Time{})
	ids, next, err := s.Due(now, 10)
	if err != nil || len(ids) != 1 || ids[0] != a {
		t.Fatalf("due = %v %v", ids, err)
	}
	if !next.Equal(now.Add(time.Hour).Truncate(0)) && next.Sub(now.Add(time.Hour)).Abs() > time.Microsecond {
		t.Fatalf("next = %v", next)
	}
	// An unacknowledged body (crash before the commit) is removed on open.
	orphan := NewID()
	os.WriteFile(filepath.Join(dir, "spool", orphan), []byte("x"), 0o600)
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "spool", orphan)); !os.IsNotExist(err) {
		t.Fatal("orphan body survived reopen")
	}
	for _, id := range []string{a, b, h} {
		if _, err := os.Stat(s.BodyPath(id)); err != nil {
			t.Fatalf("body of %s lost: %v", id, err)
		}
	}
	// Enqueue a held message: it becomes due now.
	if err := s.Update(h, func(_ *bbolt.Tx, rec *Record) error {
		rec.State, rec.NextAttempt = StateQueued, now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ids, _, _ = s.Due(now, 10)
	if len(ids) != 2 {
		t.Fatalf("due after enqueue = %v", ids)
	}
	counts, _ := s.Counts()
	if counts[StateQueued] != 3 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spoolOne(t, s, StateQueued, time.Now())
		}()
	}
	wg.Wait()
	counts, _ := s.Counts()
	if counts[StateQueued] != 64 {
		t.Fatalf("counts = %v", counts)
	}
}

// BenchmarkAccept compares group-committed acceptance from 32 writers with
// one bbolt commit per message (the baseline) in the same run.
func BenchmarkAccept(b *testing.B) {
	b.Run("group-commit", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		defer s.Close()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				spoolOne(b, s, StateQueued, time.Now())
			}
		})
	})
	b.Run("commit-per-message", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		defer s.Close()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				// The same durable work, without sharing: body fsync, a
				// directory fsync and a bbolt commit per message.
				id := NewID()
				bw, _ := s.Create(id)
				bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
				bw.Commit()
				syncDir(s.dir)
				rec := &Record{ID: id, Kind: KindMail, State: StateQueued}
				s.db.Update(func(tx *bbolt.Tx) error { return PutTx(tx, rec) })
			}
		})
	})
}

func TestPurgeFinished(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	old := spoolOne(t, s, StateQueued, time.Now())
	fresh := spoolOne(t, s, StateQueued, time.Now())
	queued := spoolOne(t, s, StateQueued, time.Now())
	for id, fin := range map[string]time.Time{old: time.Now().Add(-48 * time.Hour), fresh: time.Now()} {
		err := s.Update(id, func(_ *bbolt.Tx, r *Record) error {
			r.State, r.FinishedAt = StateDelivered, fin
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Purge(time.Now().Add(-24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := s.Get(old); err != ErrNotFound {
		t.Fatalf("old record still there: %v", err)
	}
	if _, err := os.Stat(s.BodyPath(old)); !os.IsNotExist(err) {
		t.Fatal("old body still there")
	}
	for _, id := range []string{fresh, queued} {
		if _, err := s.Get(id); err != nil {
			t.Fatalf("%s purged: %v", id, err)
		}
	}
}

// Counters follow every write and survive a rebuild from the records.
func TestCountsFollowWrites(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	a := spoolOne(t, s, StateQueued, time.Now())
	spoolOne(t, s, StateQueued, time.Now())
	spoolOne(t, s, StateHeld, time.Time{})
	s.Update(a, func(_ *bbolt.Tx, r *Record) error { r.State = StateDelivered; return nil })
	want := map[State]int{StateQueued: 1, StateHeld: 1, StateDelivered: 1}
	check := func(s *Store) {
		t.Helper()
		got, err := s.Counts()
		if err != nil || len(got) != len(want) {
			t.Fatalf("counts %v, %v; want %v", got, err, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("counts %v, want %v", got, want)
			}
		}
	}
	check(s)
	s.Commit(func(tx *bbolt.Tx) error { return DeleteTx(tx, a) })
	delete(want, StateDelivered)
	check(s)
	// An old database without counters gets them rebuilt on open.
	s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketCounts) })
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	check(s)
}

// TestStepsIndex: a record with recorded steps is listed until a write
// clears them, and is never purged while they are pending.
func TestStepsIndex(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	now := time.Now()
	id := spoolOne(t, s, StateHeld, now)
	if err := s.Update(id, func(_ *bbolt.Tx, rec *Record) error {
		rec.State, rec.FinishedAt = StateRejected, now.Add(-time.Hour)
		rec.Steps = []Step{{Kind: StepNotice, Notice: "rejected"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.WithSteps(10); len(ids) != 1 || ids[0] != id {
		t.Fatalf("with steps = %v", ids)
	}
	if n, err := s.Purge(now); err != nil || n != 0 {
		t.Fatalf("purge with a pending step: %d %v", n, err)
	}
	if err := s.Update(id, func(_ *bbolt.Tx, rec *Record) error { rec.Steps = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.WithSteps(10); len(ids) != 0 {
		t.Fatalf("with steps after clearing = %v", ids)
	}
	if n, err := s.Purge(now); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
}

// TestForEachStopIsNotAnError: a callback that stops early ends the walk
// without an error (a dashboard reading the first N records).
func TestForEachStopIsNotAnError(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	for range 3 {
		spoolOne(t, s, StateQueued, time.Now())
	}
	n := 0
	if err := s.ForEach(func(*Record) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Fatalf("ForEach stopped early: n=%d err=%v", n, err)
	}
}
