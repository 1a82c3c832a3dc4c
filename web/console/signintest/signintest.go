// Package signintest is the conformance suite of the console's sign-in
// back-off stores: the in-process one and the shared PostgreSQL one must
// pass it unchanged, two nodes on one store included.
package signintest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/web/console"
)

// Open returns two handles on one fresh store (two nodes).
type Open func(t *testing.T) (a, b console.SignInStore)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, open Open) {
	ctx := context.Background()
	cfg := ratelimit.BackoffConfig{Free: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour}
	must := func(t *testing.T) func(time.Duration, error) time.Duration {
		return func(d time.Duration, err error) time.Duration {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}

	t.Run("DoublesUpToMaxThenForgets", func(t *testing.T) {
		a, _ := open(t)
		b := a.Backoff("ip", cfg)
		now := t0
		var got []time.Duration
		for range 8 {
			got = append(got, must(t)(b.Fail(ctx, "192.0.2.1", now)))
		}
		want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("waits %v, want %v", got, want)
			}
		}
		if w := must(t)(b.Wait(ctx, "192.0.2.1", now.Add(3*time.Second))); w != 5*time.Second {
			t.Fatalf("wait 3s after: %v", w)
		}
		if w := must(t)(b.Wait(ctx, "192.0.2.2", now)); w != 0 {
			t.Fatalf("another key waits %v", w)
		}
		if w := must(t)(b.Wait(ctx, "192.0.2.1", now.Add(time.Hour))); w != 0 {
			t.Fatalf("after Forget: %v", w)
		}
		if d := must(t)(b.Fail(ctx, "192.0.2.1", now.Add(time.Hour))); d != 0 {
			t.Fatalf("first failure after Forget imposes %v", d)
		}
	})

	t.Run("ResetAndScopes", func(t *testing.T) {
		a, _ := open(t)
		ip, acct := a.Backoff("ip", cfg), a.Backoff("account", cfg)
		// Account keys hold a NUL between account and network.
		k := ratelimit.AccountKey("alice", "192.0.2.10")
		for range 4 {
			must(t)(acct.Fail(ctx, k, t0))
		}
		if w := must(t)(ip.Wait(ctx, k, t0)); w != 0 {
			t.Fatalf("scopes share keys: %v", w)
		}
		if w := must(t)(acct.Wait(ctx, k, t0)); w != 2*time.Second {
			t.Fatalf("wait %v", w)
		}
		if err := acct.Reset(ctx, k); err != nil {
			t.Fatal(err)
		}
		if w := must(t)(acct.Wait(ctx, k, t0)); w != 0 {
			t.Fatalf("after reset: %v", w)
		}
	})

	// An attacker spreading guesses over two nodes waits as on one.
	t.Run("TwoNodesCountTogether", func(t *testing.T) {
		a, b := open(t)
		na, nb := a.Backoff("ip", cfg), b.Backoff("ip", cfg)
		const per = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*per)
		for _, n := range []console.Backoff{na, nb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					if _, err := n.Fail(ctx, "198.51.100.7", t0); err != nil {
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
		// 40 failures: the next one is the 41st, at the cap.
		if d := must(t)(na.Fail(ctx, "198.51.100.7", t0)); d != cfg.Max {
			t.Fatalf("after %d failures on two nodes: %v", 2*per, d)
		}
		for _, n := range []console.Backoff{na, nb} {
			if w := must(t)(n.Wait(ctx, "198.51.100.7", t0.Add(time.Second))); w != 7*time.Second {
				t.Fatalf("wait on a node: %v", w)
			}
		}
		// Two failures, one on each node: the third (on either) waits.
		for i, n := range []console.Backoff{na, nb} {
			if d := must(t)(n.Fail(ctx, "203.0.113.9", t0)); d != 0 {
				t.Fatalf("failure %d: %v", i+1, d)
			}
		}
		if d := must(t)(na.Fail(ctx, "203.0.113.9", t0)); d != time.Second {
			t.Fatalf("third failure across nodes: %v", d)
		}
	})
}
