// Package reportstest is the conformance suite of the stored analysis
// reports: the node's bbolt store and the shared PostgreSQL store must
// pass it unchanged.
package reportstest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/reports"
)

// Store is what the suite exercises.
type Store interface {
	reports.RawSink
	Put(ctx context.Context, rs []*reports.Report) error
	ScanRaw(ctx context.Context, since time.Time, fn func(raw []byte) error) error
	Scan(ctx context.Context, since time.Time, fn func(*reports.Report) error) (int, error)
	ScanBack(ctx context.Context, since time.Time, fn func(*reports.Report) error) (int, error)
	Purge(ctx context.Context, cutoff time.Time) (int, error)
}

// Open returns two handles on one fresh store: two nodes sharing it (for
// bbolt, two handles on one database).
type Open func(t *testing.T) (a, b Store)

var base = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func report(i int, at time.Time) *reports.Report {
	return &reports.Report{QueueID: fmt.Sprintf("Q%06d", i), Time: at, Sender: fmt.Sprintf("u%d@corp.example", i%7),
		Size: int64(1000 + i), Actions: []string{"deliver"}, Rules: []string{"r" + fmt.Sprint(i%3)},
		Recipients: reports.Recipients{Total: 1, External: 1, ExternalDomains: []string{"x.example"}}}
}

func ids(t *testing.T, s Store, since time.Time) []string {
	t.Helper()
	var out []string
	corrupt, err := s.Scan(context.Background(), since, func(r *reports.Report) error {
		out = append(out, r.QueueID)
		return nil
	})
	if err != nil || corrupt != 0 {
		t.Fatalf("scan: %v (corrupt %d)", err, corrupt)
	}
	return out
}

// LocalBolt is a fresh bbolt report store (a node's outbox for Ship).
func LocalBolt(t *testing.T) *reports.Bolt {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "local.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &reports.Bolt{DB: db}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Run runs the suite.
func Run(t *testing.T, open Open) {
	ctx := context.Background()

	t.Run("ScanInTimeOrder", func(t *testing.T) {
		a, b := open(t)
		// Stored out of order, same instant for two of them: time, then
		// queue ID.
		rs := []*reports.Report{report(3, base.Add(3*time.Hour)), report(1, base.Add(time.Hour)), report(2, base.Add(time.Hour)),
			report(0, base), report(4, base.Add(4*time.Hour+time.Nanosecond))}
		if err := a.Put(ctx, rs); err != nil {
			t.Fatal(err)
		}
		if got, want := ids(t, b, time.Time{}), []string{"Q000000", "Q000001", "Q000002", "Q000003", "Q000004"}; !slices.Equal(got, want) {
			t.Fatalf("scan all: %v, want %v", got, want)
		}
		if got, want := ids(t, b, base.Add(time.Hour)), []string{"Q000001", "Q000002", "Q000003", "Q000004"}; !slices.Equal(got, want) {
			t.Fatalf("scan since: %v, want %v", got, want)
		}
		var got reports.Report
		if _, err := b.Scan(ctx, base.Add(4*time.Hour), func(r *reports.Report) error { got = *r; return nil }); err != nil {
			t.Fatal(err)
		}
		if !got.Time.Equal(rs[4].Time) || got.Sender != rs[4].Sender || got.Size != rs[4].Size || !slices.Equal(got.Rules, rs[4].Rules) {
			t.Fatalf("round trip: %+v, want %+v", got, *rs[4])
		}
		n := 0
		if err := b.ScanRaw(ctx, time.Time{}, func(raw []byte) error {
			if _, err := reports.Unmarshal(raw); err != nil {
				return err
			}
			n++
			return nil
		}); err != nil || n != 5 {
			t.Fatalf("scan raw: %d %v", n, err)
		}
		stop := errors.New("stop")
		if err := b.ScanRaw(ctx, time.Time{}, func([]byte) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("fn's error: %v", err)
		}
	})

	t.Run("ScanBackNewestFirst", func(t *testing.T) {
		a, b := open(t)
		var rs []*reports.Report
		for i := range 10 {
			rs = append(rs, report(i, base.Add(time.Duration(i)*time.Minute)))
		}
		if err := a.Put(ctx, rs); err != nil {
			t.Fatal(err)
		}
		var got []string
		corrupt, err := b.ScanBack(ctx, base.Add(5*time.Minute), func(r *reports.Report) error {
			got = append(got, r.QueueID)
			if len(got) == 3 {
				return reports.ErrStop
			}
			return nil
		})
		if err != nil || corrupt != 0 || !slices.Equal(got, []string{"Q000009", "Q000008", "Q000007"}) {
			t.Fatalf("scan back: %v %v %d", got, err, corrupt)
		}
		got = nil
		if _, err := b.ScanBack(ctx, base.Add(7*time.Minute), func(r *reports.Report) error { got = append(got, r.QueueID); return nil }); err != nil ||
			!slices.Equal(got, []string{"Q000009", "Q000008", "Q000007"}) {
			t.Fatalf("scan back since: %v %v", got, err)
		}
	})

	t.Run("CorruptSkippedAndCounted", func(t *testing.T) {
		a, b := open(t)
		if err := a.Put(ctx, []*reports.Report{report(1, base), report(3, base.Add(2*time.Second))}); err != nil {
			t.Fatal(err)
		}
		if err := a.PutRaw(ctx, []reports.Raw{{TimeNS: base.Add(time.Second).UnixNano(), QueueID: "BAD", Data: []byte{0xff, 1, 2}}}); err != nil {
			t.Fatal(err)
		}
		for _, back := range []bool{false, true} {
			var got []string
			scan := b.Scan
			if back {
				scan = b.ScanBack
			}
			corrupt, err := scan(ctx, base.Add(-time.Hour), func(r *reports.Report) error { got = append(got, r.QueueID); return nil })
			if err != nil || corrupt != 1 || len(got) != 2 {
				t.Fatalf("back %v: %v corrupt %d err %v", back, got, corrupt, err)
			}
		}
	})

	t.Run("PutRawIdempotent", func(t *testing.T) {
		a, b := open(t)
		r := report(1, base)
		raw := []reports.Raw{{TimeNS: r.Time.UnixNano(), QueueID: r.QueueID, Data: reports.Marshal(r)}}
		for range 2 {
			if err := a.PutRaw(ctx, raw); err != nil {
				t.Fatal(err)
			}
			if err := b.PutRaw(ctx, raw); err != nil {
				t.Fatal(err)
			}
		}
		if got := ids(t, a, time.Time{}); len(got) != 1 {
			t.Fatalf("after copying one report four times: %v", got)
		}
	})

	t.Run("PurgeBatchesAndCountsOnceAcrossNodes", func(t *testing.T) {
		a, b := open(t)
		const old, young = 2500, 40
		var rs []*reports.Report
		for i := range old + young {
			rs = append(rs, report(i, base.Add(time.Duration(i)*time.Second)))
		}
		if err := a.Put(ctx, rs); err != nil {
			t.Fatal(err)
		}
		cutoff := base.Add(old * time.Second)
		var wg sync.WaitGroup
		var counts [2]int
		var errs [2]error
		for i, s := range []Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = s.Purge(ctx, cutoff)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || counts[0]+counts[1] != old {
			t.Fatalf("two nodes purging: %v %v, want %d in all", counts, errs, old)
		}
		got := ids(t, b, time.Time{})
		if len(got) != young || got[0] != fmt.Sprintf("Q%06d", old) {
			t.Fatalf("left after purge: %d from %v", len(got), got[:min(1, len(got))])
		}
		if n, err := a.Purge(ctx, cutoff); n != 0 || err != nil {
			t.Fatalf("second purge: %d %v", n, err)
		}
	})

	t.Run("ShipFromTwoNodes", func(t *testing.T) {
		a, b := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		const per = 2100 // more than one batch
		for n, s := range []Store{a, b} {
			local := LocalBolt(t)
			var rs []*reports.Report
			for i := range per {
				rs = append(rs, report(n*per+i, base.Add(time.Duration(i)*time.Millisecond)))
			}
			if err := local.Put(ctx, rs); err != nil {
				t.Fatal(err)
			}
			// A crash after the shared store committed a batch but before
			// the local copies were removed: that batch is copied again.
			first, _ := local.Oldest(10)
			if err := s.PutRaw(ctx, first); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				moved, err := reports.Ship(ctx, local, s)
				if err == nil && moved != per {
					err = fmt.Errorf("node %d moved %d, want %d", n, moved, per)
				}
				if left, _ := local.Oldest(1); err == nil && len(left) != 0 {
					err = fmt.Errorf("node %d kept %v", n, left)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := ids(t, a, time.Time{})
		if len(got) != 2*per {
			t.Fatalf("shared store has %d reports, want %d", len(got), 2*per)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
	})

	t.Run("CancelledScan", func(t *testing.T) {
		a, _ := open(t)
		var rs []*reports.Report
		for i := range 5000 {
			rs = append(rs, report(i, base.Add(time.Duration(i)*time.Second)))
		}
		if err := a.Put(ctx, rs); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		_, err := a.Scan(cctx, time.Time{}, func(*reports.Report) error {
			if n++; n == 10 {
				cancel()
			}
			return nil
		})
		if err == nil || n == 5000 {
			t.Fatalf("cancelled scan: %d reports, err %v", n, err)
		}
	})
}
