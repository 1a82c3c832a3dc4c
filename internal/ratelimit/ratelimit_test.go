package ratelimit

import (
	"testing"
	"time"
)

func TestLimiterBoundedAndWindowed(t *testing.T) {
	l := New(2, time.Minute, 4)
	now := time.Unix(0, 0)
	for i := range 10 {
		l.Fail(string(rune('a'+i)), now.Add(time.Duration(i)*time.Second))
	}
	if l.Len() > 4 {
		t.Errorf("limiter holds %d keys", l.Len())
	}
	l.Fail("z", now)
	if l.Blocked("z", now) {
		t.Error("blocked after one failure of two")
	}
	l.Fail("z", now)
	if !l.Blocked("z", now) || l.Blocked("y", now) {
		t.Error("blocking wrong")
	}
	if l.Blocked("z", now.Add(time.Minute)) {
		t.Error("still blocked after the window")
	}
	l.Reset("z")
	if l.Blocked("z", now) {
		t.Error("blocked after Reset")
	}
}
