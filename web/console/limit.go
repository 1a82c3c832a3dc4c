package console

import (
	"sync"
	"time"
)

// limiter counts failed sign-ins per key (client IP, account) in fixed
// windows and blocks a key that reaches max within one window until the
// window ends. The table is bounded: when full, expired entries go first,
// then the oldest window.
type limiter struct {
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

func newLimiter(max int, w time.Duration, maxKeys int) *limiter {
	return &limiter{max: max, window: w, maxKeys: maxKeys, hits: make(map[string]*window)}
}

// blocked reports whether key has used up its failures for now.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		return false
	}
	return w.n >= l.max
}

// fail records one failure of key.
func (l *limiter) fail(key string, now time.Time) {
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

// reset forgets key's failures (after a successful sign-in of an account).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

func (l *limiter) evict(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for k, w := range l.hits {
		if now.Sub(w.start) >= l.window {
			delete(l.hits, k)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = k, w.start
		}
	}
	if len(l.hits) >= l.maxKeys && oldest != "" {
		delete(l.hits, oldest)
	}
}
