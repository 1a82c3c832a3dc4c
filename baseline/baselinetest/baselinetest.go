// Package baselinetest is the conformance suite of the baseline stores:
// the node's bbolt store and the shared PostgreSQL store must pass it
// unchanged, two nodes on one store included.
package baselinetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/baseline"
)

// Open returns two handles on one fresh store: two nodes sharing it (for
// bbolt, two handles on one database).
type Open func(t *testing.T) (a, b baseline.Store)

var (
	tokyo = time.FixedZone("JST", 9*3600)
	t0    = time.Date(2026, 11, 2, 10, 0, 0, 0, tokyo)
)

func apply(r *baseline.Record, obs []baseline.Observation) {
	for _, o := range obs {
		r.Observe(o, tokyo)
	}
}

func obs(n int, at time.Time) []baseline.Observation {
	out := make([]baseline.Observation, n)
	for i := range out {
		out[i] = baseline.Observation{At: at.Add(time.Duration(i) * time.Second), External: 1, AttachmentBytes: 100}
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, open Open) {
	ctx := context.Background()

	t.Run("LoadMergeLoad", func(t *testing.T) {
		a, b := open(t)
		if _, ok, err := b.Load(ctx, "x@example.com"); ok || err != nil {
			t.Fatalf("empty store: %v %v", ok, err)
		}
		got, err := a.Merge(ctx, map[string][]baseline.Observation{"x@example.com": obs(3, t0), "y@example.com": obs(1, t0)}, apply)
		if err != nil || got["x@example.com"].Messages != 3 || got["y@example.com"].Messages != 1 || len(got) != 2 {
			t.Fatalf("merge: %+v %v", got, err)
		}
		r, ok, err := b.Load(ctx, "x@example.com")
		if !ok || err != nil || r.Messages != 3 || r.DayExternal != 3 || r.DayAttachmentBytes != 300 || !r.Updated.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("load: %+v %v %v", r, ok, err)
		}
		got, err = b.Merge(ctx, map[string][]baseline.Observation{"x@example.com": obs(2, t0.Add(24*time.Hour))}, apply)
		if err != nil || got["x@example.com"].Messages != 5 || got["x@example.com"].Days != 2 {
			t.Fatalf("merge onto stored: %+v %v", got, err)
		}
		if r, _, _ := a.Load(ctx, "x@example.com"); r.Messages != 5 || r.Days != 2 {
			t.Fatalf("other handle: %+v", r)
		}
	})

	t.Run("TwoNodesMergeConcurrently", func(t *testing.T) {
		a, b := open(t)
		senders := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}
		const rounds = 25
		var wg sync.WaitGroup
		errs := make(chan error, 2*rounds)
		for n, s := range []baseline.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					batch := map[string][]baseline.Observation{}
					// Overlapping senders in both orders across nodes.
					for j, k := range senders {
						if (i+j+n)%3 != 0 {
							batch[k] = obs(2, t0.Add(time.Duration(i)*time.Minute))
						}
					}
					if _, err := s.Merge(ctx, batch, apply); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		want := map[string]int{}
		for n := range 2 {
			for i := range rounds {
				for j, k := range senders {
					if (i+j+n)%3 != 0 {
						want[k] += 2
					}
				}
			}
		}
		for _, k := range senders {
			if r, _, err := a.Load(ctx, k); err != nil || r.Messages != want[k] {
				t.Fatalf("%s: %d messages (%v), want %d: an observation was lost or counted twice", k, r.Messages, err, want[k])
			}
		}
	})

	t.Run("TrackersOnTwoNodes", func(t *testing.T) {
		a, b := open(t)
		ta, tb := baseline.NewTracker(a, tokyo, 0, nil), baseline.NewTracker(b, tokyo, 0, nil)
		for _, tr := range []*baseline.Tracker{ta, tb} {
			tr.SetMaxAge(time.Nanosecond)
		}
		const sender = "Carol@Example.com"
		for i := range 30 {
			ta.Observe(ctx, sender, baseline.Observation{At: t0.Add(time.Duration(i) * time.Minute), External: 1})
		}
		if bh := tb.Lookup(ctx, sender, t0.Add(time.Hour)); bh.Messages != 0 {
			t.Fatalf("node B saw node A's unflushed observations: %+v", bh)
		}
		if err := ta.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if bh := tb.Lookup(ctx, sender, t0.Add(time.Hour)); bh.Messages != 30 {
			t.Fatalf("node B after node A's flush: %+v", bh)
		}
		for i := range 10 {
			tb.Observe(ctx, "carol@example.com", baseline.Observation{At: t0.Add(time.Hour + time.Duration(i)*time.Minute), External: 2})
		}
		// Both flush: neither overwrites the other's observations.
		ta.Observe(ctx, sender, baseline.Observation{At: t0.Add(2 * time.Hour), External: 1})
		for _, tr := range []*baseline.Tracker{tb, ta} {
			if err := tr.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for n, tr := range []*baseline.Tracker{ta, tb} {
			if bh := tr.Lookup(ctx, sender, t0.Add(3*time.Hour)); bh.Messages != 41 {
				t.Fatalf("node %d: %d messages, want 41", n, bh.Messages)
			}
		}
		if r, _, _ := b.Load(ctx, baseline.Key(sender)); r.Messages != 41 {
			t.Fatalf("store: %+v", r)
		}
	})

	t.Run("ManySenders", func(t *testing.T) {
		a, _ := open(t)
		batch := map[string][]baseline.Observation{}
		for i := range 2000 {
			batch[fmt.Sprintf("u%d@example.com", i)] = obs(1+i%3, t0)
		}
		got, err := a.Merge(ctx, batch, apply)
		if err != nil || len(got) != 2000 {
			t.Fatalf("merge: %d %v", len(got), err)
		}
		if r, ok, _ := a.Load(ctx, "u1999@example.com"); !ok || r.Messages != 1+1999%3 {
			t.Fatalf("load: %+v", r)
		}
	})
}
