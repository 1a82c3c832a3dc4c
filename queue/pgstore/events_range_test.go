package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

func TestEventsRange(t *testing.T) {
	ctx := context.Background()
	s := open(t, migrated(t), "a")
	for i := range 25 {
		a := hold.Actor{Name: "alice", Role: "admin"}
		if i%5 == 0 {
			a = hold.System
		}
		if _, err := s.AppendEvent(ctx, hold.Event{Actor: a, Action: "note", MessageID: map[bool]string{true: "M1"}[i%2 == 0]}); err != nil {
			t.Fatal(err)
		}
	}
	var all []uint64
	var after uint64
	for {
		evs, next, err := s.EventsRange(ctx, hold.EventFilter{Actor: "alice"}, hold.EventPage{After: after, Limit: 7, Desc: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			all = append(all, e.Seq)
		}
		if next == 0 {
			break
		}
		after = next
	}
	if len(all) != 20 || all[0] != 25 || all[len(all)-1] != 2 {
		t.Fatalf("alice's events newest first: %v", all)
	}
	evs, _, err := s.EventsRange(ctx, hold.EventFilter{MessageID: "M1", Role: "system", From: time.Now().Add(-time.Hour)}, hold.EventPage{})
	if err != nil || len(evs) != 3 { // 0, 10, 20
		t.Fatalf("M1 by the system: %d %v", len(evs), err)
	}
	evs, _, _ = s.EventsRange(ctx, hold.EventFilter{To: time.Now().Add(-time.Hour)}, hold.EventPage{})
	if len(evs) != 0 {
		t.Fatalf("before an hour ago: %v", evs)
	}
}
