package hold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// auditFixture has 1 + 20 events: a hold, then alternating sign-ins by
// two people a minute apart.
func auditFixture(t *testing.T) *fixture {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.create("M", KindReview, 0)
	for i := range 20 {
		f.clock.Advance(time.Minute)
		who := []string{"alice", "bob"}[i%2]
		if _, err := f.s.AppendEvent(ctx, Event{Actor: Actor{Name: who, Role: "admin", IP: "192.0.2.9"}, Action: "sign_in"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestAuditVerify(t *testing.T) {
	f := auditFixture(t)
	ctx := context.Background()
	n, err := f.s.Verify(ctx)
	if err != nil || n != 21 {
		t.Fatalf("verify %d %v", n, err)
	}
	seq, h, _ := f.s.Head(ctx)
	ev, _, _ := f.s.EventsRange(ctx, EventFilter{}, EventPage{Desc: true, Limit: 1})
	if seq != 21 || ev[0].Hash != h || ev[0].Seq != 21 {
		t.Fatalf("head %d %s vs %+v", seq, h, ev[0])
	}
	if _, err := f.s.AppendEvent(ctx, Event{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("event without action: %v", err)
	}
	// The clock stepping back does not break time order.
	f.clock.Advance(-time.Hour)
	e, err := f.s.AppendEvent(ctx, Event{Actor: System, Action: "note"})
	if err != nil || e.Time.Before(ev[0].Time) {
		t.Fatalf("time went back: %v %v", e.Time, err)
	}
	if _, err := f.s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawEdit changes the stored audit buckets directly, as someone with write
// access to the file would.
func rawEdit(t *testing.T, f *fixture, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	if err := f.db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func editEvent(seq uint64, fn func(e *Event)) func(tx *bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		e, err := decodeEvent(b.Get(u64(seq)))
		if err != nil {
			return err
		}
		fn(&e)
		v, _ := json.Marshal(e)
		return b.Put(u64(seq), v)
	}
}

func TestAuditTamper(t *testing.T) {
	cases := []struct {
		name string
		edit func(tx *bbolt.Tx) error
		want uint64
	}{
		{"reason changed", editEvent(7, func(e *Event) { e.Reason = "nothing to see" }), 7},
		{"actor changed", editEvent(1, func(e *Event) { e.Actor.Name = "mallory" }), 1},
		{"hash recomputed", editEvent(9, func(e *Event) { e.Actor.IP = "203.0.113.1"; e.Hash = e.computeHash() }), 10},
		{"time moved", editEvent(12, func(e *Event) { e.Time = e.Time.Add(-time.Hour); e.Hash = e.computeHash() }), 12},
		{"event deleted", func(tx *bbolt.Tx) error { return tx.Bucket(bucketEvents).Delete(u64(15)) }, 15},
		{"tail truncated", func(tx *bbolt.Tx) error { return tx.Bucket(bucketEvents).Delete(u64(21)) }, 21},
		{"garbage", func(tx *bbolt.Tx) error { return tx.Bucket(bucketEvents).Put(u64(4), []byte("{")) }, 4},
		{"seq swapped", func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketEvents)
			v5, v6 := append([]byte(nil), b.Get(u64(5))...), append([]byte(nil), b.Get(u64(6))...)
			if err := b.Put(u64(5), v6); err != nil {
				return err
			}
			return b.Put(u64(6), v5)
		}, 5},
		{"appended past head", func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketEvents).Put(u64(22), tx.Bucket(bucketEvents).Get(u64(21)))
		}, 22},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := auditFixture(t)
			rawEdit(t, f, c.edit)
			_, err := f.s.Verify(context.Background())
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrChainBroken) {
				t.Fatalf("tamper not detected: %v", err)
			}
			if ce.Seq != c.want {
				t.Fatalf("first broken %d (%s), want %d", ce.Seq, ce.Reason, c.want)
			}
		})
	}
}

func TestEventsRange(t *testing.T) {
	f := auditFixture(t)
	ctx := context.Background()
	start := f.clock.Now().Add(-20 * time.Minute) // time of the hold event

	// Page through alice's sign-ins, three at a time, both directions.
	for _, desc := range []bool{false, true} {
		var got []uint64
		var cursor uint64
		for range 10 {
			ev, next, err := f.s.EventsRange(ctx, EventFilter{Actor: "alice"}, EventPage{After: cursor, Limit: 3, Desc: desc})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ev {
				if e.Actor.Name != "alice" {
					t.Fatalf("filter leak %+v", e)
				}
				got = append(got, e.Seq)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		want := "[2 4 6 8 10 12 14 16 18 20]"
		if desc {
			want = "[20 18 16 14 12 10 8 6 4 2]"
		}
		if fmt.Sprint(got) != want {
			t.Fatalf("desc=%v: %v", desc, got)
		}
	}

	// Time range [start+5m, start+8m) holds seq 6, 7, 8.
	ev, next, err := f.s.EventsRange(ctx, EventFilter{From: start.Add(5 * time.Minute), To: start.Add(8 * time.Minute)}, EventPage{})
	if err != nil || next != 0 || len(ev) != 3 || ev[0].Seq != 6 || ev[2].Seq != 8 {
		t.Fatalf("time range: %+v %d %v", ev, next, err)
	}
	ev, _, _ = f.s.EventsRange(ctx, EventFilter{MessageID: "M", Action: ActionHold}, EventPage{})
	if len(ev) != 1 || ev[0].Seq != 1 {
		t.Fatalf("by message: %+v", ev)
	}
	if ev, _, _ = f.s.EventsRange(ctx, EventFilter{From: start.Add(time.Hour)}, EventPage{}); len(ev) != 0 {
		t.Fatalf("future: %d", len(ev))
	}
	if ev, _, _ = f.s.EventsRange(ctx, EventFilter{Role: "admin"}, EventPage{Limit: 1000}); len(ev) != 20 {
		t.Fatalf("role: %d", len(ev))
	}
}
