package webserve

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// connTable counts open connections and knows which are idle, so that at
// the cap an idle keep-alive connection gives way to a new client.
type connTable struct {
	mu    sync.Mutex
	cond  *sync.Cond
	max   int
	perIP int
	open  int
	byIP  map[netip.Addr]int
	idle  map[*trackedConn]time.Time // idle since
}

func newConnTable(max, perIP int) *connTable {
	t := &connTable{max: max, perIP: perIP, byIP: map[netip.Addr]int{}, idle: map[*trackedConn]time.Time{}}
	t.cond = sync.NewCond(&t.mu)
	return t
}

// reserve waits for a free slot, closing the longest-idle connection when
// the table is full; it returns false once done is closed.
func (t *connTable) reserve(done <-chan struct{}) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.open >= t.max {
		select {
		case <-done:
			return false
		default:
		}
		if c := t.oldestIdle(); c != nil {
			delete(t.idle, c)
			t.mu.Unlock()
			c.Close() // frees its slot
			t.mu.Lock()
			continue
		}
		t.cond.Wait()
	}
	t.open++
	return true
}

func (t *connTable) oldestIdle() *trackedConn {
	var oldest *trackedConn
	var since time.Time
	for c, at := range t.idle {
		if oldest == nil || at.Before(since) {
			oldest, since = c, at
		}
	}
	return oldest
}

// unreserve gives a slot back.
func (t *connTable) unreserve() {
	t.mu.Lock()
	t.open--
	t.mu.Unlock()
	t.cond.Broadcast()
}

// admit counts a connection against its address, or refuses it.
func (t *connTable) admit(ip netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byIP[ip] >= t.perIP {
		return false
	}
	t.byIP[ip]++
	return true
}

func (t *connTable) release(c *trackedConn) {
	t.mu.Lock()
	delete(t.idle, c)
	if t.byIP[c.ip]--; t.byIP[c.ip] <= 0 {
		delete(t.byIP, c.ip)
	}
	t.open--
	t.mu.Unlock()
	t.cond.Broadcast()
}

// state follows http.Server's view of each connection (ConnState).
func (t *connTable) state(nc net.Conn, st http.ConnState) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	c, ok := nc.(*trackedConn)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if st == http.StateIdle && !c.isClosed() {
		t.idle[c] = time.Now()
	} else {
		delete(t.idle, c)
	}
}

// limitListener hands out connections only within the table's limits.
// Like golang.org/x/net/netutil.LimitListener it lets connections over the
// cap wait in the kernel's listen queue, and it adds the per-address cap
// and the closing of idle connections.
type limitListener struct {
	net.Listener
	t         *connTable
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		if !l.t.reserve(l.done) {
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.t.unreserve()
			return nil, err
		}
		ip := remoteIP(c)
		if !l.t.admit(ip) {
			l.t.unreserve()
			c.Close()
			continue
		}
		return &trackedConn{Conn: c, ip: ip, t: l.t}, nil
	}
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.t.cond.Broadcast()
	})
	return l.Listener.Close()
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// trackedConn gives its slot back when closed, once.
type trackedConn struct {
	net.Conn
	ip     netip.Addr
	t      *connTable
	mu     sync.Mutex
	closed bool
}

func (c *trackedConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	c.mu.Unlock()
	if first {
		c.t.release(c)
	}
	return c.Conn.Close()
}
