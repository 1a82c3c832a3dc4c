package disposition

import (
	"context"
	"testing"
)

// A Deferral takes only messages from its size on, at most slots at a
// time; a slot given back twice (a discard after a failed start, say) is
// given back once.
func TestDeferralSlots(t *testing.T) {
	var nilDeferral *Deferral
	if _, ok := nilDeferral.take(1 << 30); ok {
		t.Fatal("no deferral took a message")
	}
	d := NewDeferral(context.Background(), &StepRunner{}, 1000, 2)
	if _, ok := d.take(999); ok {
		t.Fatal("a message under the size was deferred")
	}
	r1, ok1 := d.take(1000)
	r2, ok2 := d.take(5000)
	if !ok1 || !ok2 {
		t.Fatal("two slots, two messages: not both deferred")
	}
	if _, ok := d.take(5000); ok {
		t.Fatal("a third message deferred with both slots taken")
	}
	r1()
	r1()
	r3, ok := d.take(5000)
	if !ok {
		t.Fatal("a slot given back was not free again")
	}
	if _, ok := d.take(5000); ok {
		t.Fatal("a slot given back twice counted twice")
	}
	r2()
	r3()
	if len(d.slots) != 0 {
		t.Fatalf("%d slots still taken", len(d.slots))
	}
	// Zero slots asked: one all the same, or nothing would ever defer.
	if _, ok := NewDeferral(context.Background(), &StepRunner{}, 0, 0).take(1); !ok {
		t.Fatal("a deferral made with 0 slots took nothing")
	}
}
