package outbound

import (
	"context"
	"sync"
	"time"
)

// pool holds per-destination connection limits and idle sessions.
type pool struct {
	mu     sync.Mutex
	dests  map[string]*dest
	closed bool
}

// dest is one destination (next hop, or recipient domain in mx mode).
// Every open session holds one token in slots, busy or idle.
type dest struct {
	key   string
	refs  int           // goroutines using this dest; guarded by pool.mu
	slots chan struct{} // semaphore of open connections
	wake  chan struct{} // signalled when a session goes idle

	mu   sync.Mutex
	idle []*session
}

func newPool() *pool { return &pool{dests: make(map[string]*dest)} }

// get returns the dest for key with a reference held; call put when done.
func (p *pool) get(key string, max int) (*dest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false
	}
	d := p.dests[key]
	if d == nil {
		d = &dest{key: key, slots: make(chan struct{}, max), wake: make(chan struct{}, 1)}
		p.dests[key] = d
	}
	d.refs++
	return d, true
}

func (p *pool) put(d *dest) {
	p.mu.Lock()
	d.refs--
	p.dropIfUnusedLocked(d)
	p.mu.Unlock()
}

// dropIfUnusedLocked forgets a dest nobody uses and nothing is open to, so
// the map does not grow with every domain ever seen.
func (p *pool) dropIfUnusedLocked(d *dest) {
	if d.refs == 0 && len(d.slots) == 0 && p.dests[d.key] == d {
		delete(p.dests, d.key)
	}
}

// popIdle takes the most recently used idle session, or nil.
func (d *dest) popIdle() *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.idle)
	if n == 0 {
		return nil
	}
	s := d.idle[n-1]
	d.idle = d.idle[:n-1]
	s.timer.Stop()
	if len(d.idle) > 0 {
		d.signal() // pass the wake-up on to another waiter
	}
	return s
}

func (d *dest) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// acquire returns an idle session (reused=true) or a slot for a new one.
func (d *dest) acquire(ctx context.Context) (s *session, slot bool, err error) {
	for {
		if s := d.popIdle(); s != nil {
			return s, false, nil
		}
		select {
		case d.slots <- struct{}{}:
			return nil, true, nil
		case <-d.wake:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// release returns a slot taken by acquire whose session was never opened
// or has been closed.
func (p *pool) release(d *dest) {
	<-d.slots
	p.mu.Lock()
	p.dropIfUnusedLocked(d)
	p.mu.Unlock()
}

// park keeps s for reuse until idle expires; it reports false when the
// pool is closed (the caller then closes s).
func (p *pool) park(d *dest, s *session, idle time.Duration, closeFn func(*session)) bool {
	// Holding p.mu orders this against drain: either drain sees s or we
	// see closed.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	d.mu.Lock()
	s.since = time.Now()
	s.timer = time.AfterFunc(idle, func() {
		if d.remove(s) {
			closeFn(s)
			p.release(d)
		}
	})
	d.idle = append(d.idle, s)
	d.mu.Unlock()
	d.signal()
	return true
}

// remove takes s out of the idle list; whoever removes it owns it.
func (d *dest) remove(s *session) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range d.idle {
		if x == s {
			d.idle = append(d.idle[:i], d.idle[i+1:]...)
			return true
		}
	}
	return false
}

// drain closes the pool and returns every idle session, with their slots
// already released.
func (p *pool) drain() []*session {
	p.mu.Lock()
	p.closed = true
	dests := make([]*dest, 0, len(p.dests))
	for _, d := range p.dests {
		dests = append(dests, d)
	}
	p.mu.Unlock()
	var out []*session
	for _, d := range dests {
		for {
			s := d.popIdle()
			if s == nil {
				break
			}
			out = append(out, s)
			p.release(d)
		}
	}
	return out
}
