package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestBackoffGrowsCapsAndForgets(t *testing.T) {
	b := NewBackoff(BackoffConfig{Free: 2, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour, MaxKeys: 4})
	now := time.Unix(1000, 0)
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := b.Fail("k", now); got != w {
			t.Fatalf("failure %d: delay %v, want %v", i+1, got, w)
		}
		if got := b.Wait("k", now); got != w {
			t.Fatalf("failure %d: wait %v, want %v", i+1, got, w)
		}
	}
	if got := b.Wait("k", now.Add(3*time.Second)); got != 5*time.Second {
		t.Fatalf("wait after 3s: %v", got)
	}
	if b.Wait("k", now.Add(8*time.Second)) != 0 {
		t.Fatal("still waiting after the delay")
	}
	if b.Wait("other", now) != 0 {
		t.Fatal("a key without failures waits")
	}
	// After Forget the key starts over with free failures.
	later := now.Add(time.Hour)
	if b.Wait("k", later) != 0 || b.Fail("k", later) != 0 {
		t.Fatal("key not forgotten after the quiet period")
	}
	b.Fail("k", later)
	b.Reset("k")
	if b.Wait("k", later) != 0 {
		t.Fatal("waiting after Reset")
	}
}

func TestBackoffBounded(t *testing.T) {
	b := NewBackoff(BackoffConfig{Free: 2, MaxKeys: 8})
	now := time.Unix(0, 0)
	for i := range 100 {
		b.Fail(fmt.Sprint(i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if b.Len() > 8 {
		t.Fatalf("table holds %d keys", b.Len())
	}
	// The newest keys survive eviction.
	if b.Wait("99", now.Add(99*time.Millisecond)) != 0 {
		t.Fatal("free failure delayed")
	}
	b.Fail("99", now.Add(99*time.Millisecond))
	if b.Wait("99", now.Add(99*time.Millisecond)) == 0 {
		t.Fatal("newest key was evicted")
	}
}

func TestNetworkKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":        "192.0.2.0/24",
		"::ffff:192.0.2.1":  "192.0.2.0/24",
		"2001:db8:1:2:3::4": "2001:db8:1:2::/64",
		"not an address":    "not an address",
	} {
		if got := NetworkKey(in); got != want {
			t.Errorf("NetworkKey(%q) = %q, want %q", in, got, want)
		}
	}
	if AccountKey("admin", "192.0.2.1") == AccountKey("admin", "198.51.100.1") ||
		AccountKey("admin", "192.0.2.1") != AccountKey("admin", "192.0.2.200") {
		t.Fatal("account keys do not follow the network")
	}
}
