package gateway

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// connLimiter caps concurrent connections, globally and per client IP.
// go-smtp has no cap of its own.
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
// with 554 5.7.1 before they say anything.
type limitListener struct {
	net.Listener
	lim *connLimiter
	srv *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		if !l.srv.isTrusted(ip) && len(l.srv.users) == 0 {
			l.srv.metrics.rejected.WithLabelValues("relay_denied").Inc()
			l.srv.log.Warn("connection from untrusted network refused", "client_ip", ip.String())
			go refuse(c, "554 5.7.1 Relay access denied: this address is not in a trusted network\r\n")
			continue
		}
		ok, reason := l.lim.acquire(ip)
		if !ok {
			l.srv.metrics.rejected.WithLabelValues("conn_limit").Inc()
			go refuse(c, reason)
			continue
		}
		l.srv.metrics.connections.Inc()
		return &limitConn{Conn: c, release: func() {
			l.lim.release(ip)
			l.srv.metrics.connections.Dec()
		}}, nil
	}
}

func refuse(c net.Conn, reply string) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(reply))
	c.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
