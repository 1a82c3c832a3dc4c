package ratelimit

import (
	"sync"
	"time"
)

// Backoff slows a key down after repeated failures instead of locking it:
// the first Free−1 failures cost nothing; from the Free-th on, the next
// attempt must wait Base·2^(n−Free) after the key's last failure (n
// failures so far), capped at Max. A key is
// forgotten Forget after its last failure, or on Reset.
//
// Unlike a fixed lock it never refuses for longer than Max, and it is meant
// to be keyed so that a failure only slows down whoever caused it: a client
// IP, or an account together with the client's network (NetworkKey), so an
// attacker elsewhere cannot keep a user out of their own account.
type Backoff struct {
	mu      sync.Mutex
	cfg     BackoffConfig
	entries map[string]*backoffEntry
}

// BackoffConfig parameterises a Backoff. Zero values take the defaults
// noted on each field.
type BackoffConfig struct {
	Free    int           // attempts before the first delay (default 5)
	Base    time.Duration // first delay (default 1s)
	Max     time.Duration // longest delay (default 15m)
	Forget  time.Duration // quiet time after which a key starts over (default 24h)
	MaxKeys int           // table bound (default 10000)
}

type backoffEntry struct {
	n    int
	last time.Time
}

// NewBackoff returns a Backoff with c's parameters.
func NewBackoff(c BackoffConfig) *Backoff {
	return &Backoff{cfg: c.WithDefaults(), entries: make(map[string]*backoffEntry)}
}

// WithDefaults fills in the defaults of the fields left zero (and keeps
// Max ≥ Base, Forget ≥ Max); stores of the same rule elsewhere use it too.
func (c BackoffConfig) WithDefaults() BackoffConfig {
	if c.Free < 0 {
		c.Free = 0
	} else if c.Free == 0 {
		c.Free = 5
	}
	if c.Base <= 0 {
		c.Base = time.Second
	}
	if c.Max <= 0 {
		c.Max = 15 * time.Minute
	}
	if c.Max < c.Base {
		c.Max = c.Base
	}
	if c.Forget <= 0 {
		c.Forget = 24 * time.Hour
	}
	if c.Forget < c.Max {
		c.Forget = c.Max
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10000
	}
	return c
}

// delay is the wait that n failures impose after the last one.
func (b *Backoff) delay(n int) time.Duration { return b.cfg.Delay(n) }

// Delay is the wait that n failures impose after the last one, for a
// config with its defaults filled in.
func (c BackoffConfig) Delay(n int) time.Duration {
	if n < c.Free {
		return 0
	}
	d := c.Base
	for i := c.Free; i < n && d < c.Max; i++ {
		d *= 2
	}
	return min(d, c.Max)
}

// Wait is how long key must still wait before its next attempt; zero means
// it may try now.
func (b *Backoff) Wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil {
		return 0
	}
	if now.Sub(e.last) >= b.cfg.Forget {
		delete(b.entries, key)
		return 0
	}
	return max(0, e.last.Add(b.delay(e.n)).Sub(now))
}

// Fail records a failed attempt of key and returns the wait it now imposes.
// Attempts refused because of Wait should not be recorded: they tested
// nothing.
func (b *Backoff) Fail(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e != nil && now.Sub(e.last) >= b.cfg.Forget {
		e.n = 0
	}
	if e == nil {
		if len(b.entries) >= b.cfg.MaxKeys {
			b.evict(now)
		}
		e = &backoffEntry{}
		b.entries[key] = e
	}
	e.n++
	e.last = now
	return b.delay(e.n)
}

// Reset forgets key's failures (after a successful sign-in).
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}

// Len is the number of keys tracked.
func (b *Backoff) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}

// evict drops forgotten keys; if none are, it drops the key with the
// oldest last failure, which is the one closest to being forgotten.
func (b *Backoff) evict(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, e := range b.entries {
		if now.Sub(e.last) >= b.cfg.Forget {
			delete(b.entries, k)
			continue
		}
		if oldest == "" || e.last.Before(oldestAt) {
			oldest, oldestAt = k, e.last
		}
	}
	if len(b.entries) >= b.cfg.MaxKeys && oldest != "" {
		delete(b.entries, oldest)
	}
}
