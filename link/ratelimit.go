package link

import (
	"sync"
	"time"
)

// limiter counts failures (unknown or malformed tokens, wrong codes) per
// client IP in fixed windows and blocks an IP that reaches max within a
// window until the window ends. Its table is bounded: when full, expired
// entries go first, then the oldest window.
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

// blocked reports whether ip has used up its failures for now.
func (l *limiter) blocked(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[ip]
	if w == nil || now.Sub(w.start) >= l.window {
		return false
	}
	return w.n >= l.max
}

// fail records one failure of ip.
func (l *limiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[ip]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.hits) >= l.maxKeys {
			l.evict(now)
		}
		w = &window{start: now}
		l.hits[ip] = w
	}
	w.n++
}

func (l *limiter) evict(now time.Time) {
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
