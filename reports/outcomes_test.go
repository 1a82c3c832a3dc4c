package reports

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

// TestOutcomesFromScriptedHolds: holds created by two rules end in every
// way a hold can; the statistics per rule and week follow.
func TestOutcomesFromScriptedHolds(t *testing.T) {
	s := openDB(t)
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // a Monday
	hs, err := hold.New(s.DB, hold.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	create := func(kind hold.Kind, why string) string {
		n++
		id := fmt.Sprintf("Q%03d", n)
		r := &hold.Record{ID: id, Kind: kind, CreatedAt: clock, Deadline: clock.Add(72 * time.Hour), Sender: "a@example.com",
			Decision: hold.Decision{Actions: []string{"hold_sender"}}}
		if err := hs.Create(ctx, r, hold.System, why); err != nil {
			t.Fatal(err)
		}
		return id
	}
	end := func(id string, to hold.State, actor hold.Actor, opts ...hold.TransitionOption) {
		if _, err := hs.Transition(ctx, id, to, actor, "test", opts...); err != nil {
			t.Fatalf("%s → %s: %v", id, to, err)
		}
	}
	sender := hold.Actor{Name: "a@example.com", Role: string(hold.RoleSender)}
	reviewer := hold.Actor{Name: "sec", Role: string(hold.RoleReviewer)}

	// Week 1: mass-exposure: 2 cancelled, 1 sent in Bcc, 1 confirmed as is.
	for _, f := range []func(string){
		func(id string) { end(id, hold.StateCancelled, sender) },
		func(id string) { end(id, hold.StateCancelled, sender) },
		func(id string) { end(id, hold.StateReleased, sender, hold.WithMode(hold.ModeBcc)) },
		func(id string) { end(id, hold.StateReleased, sender, hold.WithMode(hold.ModeAsIs)) },
	} {
		f(create(hold.KindSender, "mass-exposure"))
	}
	// pii (with a continue rule): released, rejected, expired, pending.
	end(create(hold.KindReview, "audit-bcc,pii"), hold.StateReleased, reviewer)
	end(create(hold.KindReview, "audit-bcc,pii"), hold.StateRejected, reviewer)
	end(create(hold.KindReview, "pii"), hold.StateExpired, hold.System)
	create(hold.KindReview, "pii")
	create(hold.KindReview, "rewrite failed: zip: disk full")

	// Week 2: mass-exposure confirmed once.
	clock = clock.Add(8 * 24 * time.Hour)
	end(create(hold.KindSender, "mass-exposure"), hold.StateReleased, sender)

	got, err := Outcomes(ctx, hs, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	w1, w2 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	want := []struct {
		rule         string
		week         time.Time
		holds        int
		counts       map[string]int
		catch, noise float64
	}{
		{"(no rule)", w1, 1, map[string]int{"pending": 1}, 0, 0},
		{"audit-bcc", w1, 2, map[string]int{"released": 1, "rejected": 1}, 0.5, 0.5},
		{"mass-exposure", w1, 4, map[string]int{"cancelled": 2, "edited": 1, "confirmed": 1}, 0.75, 0.25},
		{"mass-exposure", w2, 1, map[string]int{"confirmed": 1}, 0, 1},
		{"pii", w1, 4, map[string]int{"released": 1, "rejected": 1, "expired": 1, "pending": 1}, 0.5, 0.5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Rule != w.rule || !g.Week.Equal(w.week) || g.Holds != w.holds || g.CatchRate != w.catch || g.NoiseRate != w.noise || fmt.Sprint(g.Counts) != fmt.Sprint(w.counts) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}

	// A window after week 1 sees week 2 only.
	got, _ = Outcomes(ctx, hs, w2, time.UTC)
	if len(got) != 1 || got[0].Rule != "mass-exposure" || !got[0].Week.Equal(w2) {
		t.Fatalf("window: %+v", got)
	}
}
