package front

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sendguard/sendguard/gateway"
)

// connLimiter caps concurrent connections, globally and per client IP.
// go-smtp has no cap of its own. The server keeps two: one for trusted
// clients and one for outsiders that have not authenticated yet, so
// outsiders can never take the slots the trusted MTA needs.
type connLimiter struct {
	mu     sync.Mutex
	max    int
	perIP  int
	total  int
	counts map[netip.Addr]int
}

func newConnLimiter(max, perIP int) *connLimiter {
	return &connLimiter{max: max, perIP: perIP, counts: map[netip.Addr]int{}}
}

// acquire reserves a slot, or says why not.
func (l *connLimiter) acquire(ip netip.Addr) (ok bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return false, "421 4.7.0 Too many connections, try again later\r\n"
	}
	if l.counts[ip] >= l.perIP {
		return false, "421 4.7.0 Too many connections from your address, try again later\r\n"
	}
	l.total++
	l.counts[ip]++
	return true, ""
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.counts[ip]--; l.counts[ip] <= 0 {
		delete(l.counts, ip)
	}
}

// limitListener refuses connections over the limits with a 421 greeting
// (RFC 5321 §3.1 lets a server refuse at connection time), and refuses
// clients that could never relay — untrusted when no SMTP AUTH users exist —
// with 554 5.7.1 before they say anything. Untrusted clients that may
// authenticate take a slot of the outsiders' pool and are guarded
// (hygiene.go) until they do.
type limitListener struct {
	net.Listener
	srv *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		trusted := l.srv.isTrusted(ip)
		if !trusted && len(l.srv.users) == 0 {
			l.srv.metrics.Rejected.WithLabelValues("relay_denied").Inc()
			l.srv.log.Warn("connection from untrusted network refused", "client_ip", ip.String())
			go refuse(c, "554 5.7.1 Relay access denied: this address is not in a trusted network\r\n")
			continue
		}
		pool, reason := l.srv.lim, "conn_limit"
		if !trusted {
			pool, reason = l.srv.outsiders, "untrusted_conn_limit"
		}
		ok, reply := pool.acquire(ip)
		if !ok {
			l.srv.metrics.Rejected.WithLabelValues(reason).Inc()
			go refuse(c, reply)
			continue
		}
		l.srv.metrics.Connections.Inc()
		lc := &limitConn{Conn: c, ip: ip, pool: pool, metrics: l.srv.metrics}
		if !trusted {
			lc.guard = newConnGuard(l.srv.cfg.SMTP.Untrusted, time.Now())
		}
		return lc, nil
	}
}

func refuse(c net.Conn, reply string) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(reply))
	c.Close()
}

// limitConn holds a slot of a pool until it is closed.
type limitConn struct {
	net.Conn
	ip      netip.Addr
	metrics *gateway.Metrics
	guard   *connGuard // nil for trusted clients

	mu       sync.Mutex
	pool     *connLimiter // nil once released
	released bool

	// afterWrite, when set, runs once after the next write (or at Close):
	// a DATA phase ends when its reply is written (session.Data).
	afterWrite atomic.Pointer[func()]
}

func (c *limitConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if f := c.afterWrite.Swap(nil); f != nil {
		(*f)()
	}
	return n, err
}

func (c *limitConn) Close() error {
	if f := c.afterWrite.Swap(nil); f != nil {
		defer (*f)()
	}
	c.mu.Lock()
	if !c.released {
		c.released = true
		c.pool.release(c.ip)
		c.metrics.Connections.Dec()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// moveTo transfers the connection's slot to pool if it has room there;
// otherwise the connection keeps its slot where it is.
func (c *limitConn) moveTo(pool *connLimiter) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released || c.pool == pool {
		return false
	}
	if ok, _ := pool.acquire(c.ip); !ok {
		return false
	}
	c.pool.release(c.ip)
	c.pool = pool
	return true
}
