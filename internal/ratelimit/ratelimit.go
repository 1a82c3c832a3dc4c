// Package ratelimit blocks keys (client IPs, accounts) that fail too often
// within a window, with a bounded table, for the link pages, the sender
// pages and the console sign-in.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter counts failures (unknown tokens, wrong codes, failed sign-ins)
// per key (a client IP, an account) in fixed windows and blocks a key that
// reaches max within one window until the window ends. Its table is bounded: when full, expired entries are
// dropped, and if none are, the oldest window is evicted.
type Limiter struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	maxKeys int
	hits    map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func New(max int, w time.Duration, maxKeys int) *Limiter {
	return &Limiter{max: max, window: w, maxKeys: maxKeys, hits: make(map[string]*window)}
}

// Blocked reports whether key has used up its failures for now.
func (l *Limiter) Blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		return false
	}
	return w.n >= l.max
}

// Fail records one failure of key.
func (l *Limiter) Fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.hits) >= l.maxKeys {
			l.evict(now)
		}
		w = &window{start: now}
		l.hits[key] = w
	}
	w.n++
}

// Reset forgets key's failures (after a successful sign-in of an account).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// Len is the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hits)
}

func (l *Limiter) evict(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for ip, w := range l.hits {
		if now.Sub(w.start) >= l.window {
			delete(l.hits, ip)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = ip, w.start
		}
	}
	if len(l.hits) >= l.maxKeys && oldest != "" {
		delete(l.hits, oldest)
	}
}
