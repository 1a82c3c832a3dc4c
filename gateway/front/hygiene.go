package front

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/config"
)

// Outsiders — clients neither in smtp.trusted_networks nor authenticated —
// are held to smtp.untrusted until AUTH succeeds: their own small pool
// (limits.go), an absolute deadline whatever they send, a bound on the
// commands they may send and on the commands refused to them. Without
// these, 30 refused MAILs and endless NOOPs kept every slot busy and the
// trusted MTA got 421.
//
// go-smtp offers no hook per command, but it sets the read deadline before
// reading every command line (and every AUTH continuation line), through
// the TLS layer too; the guard sits on that call of the accepted net.Conn,
// so it sees each line before and after STARTTLS alike.

// errTooManyRefused ends the connection of an outsider after
// smtp.untrusted.max_refused refused commands (RFC 5321 §3.8: a server may
// close with 421 when it must).
var errTooManyRefused = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Too many refused commands, closing connection"}

const tooManyCommands = "421 4.7.0 Too many commands without authentication, closing connection\r\n"

// errGuardClosed is what go-smtp reads after the guard ended a connection;
// it wraps net.ErrClosed so go-smtp stops quietly.
var errGuardClosed = fmt.Errorf("connection ended by the outsider limits: %w", net.ErrClosed)

// connGuard is the state of one outsider connection until it
// authenticates.
type connGuard struct {
	mu          sync.Mutex
	lifted      bool
	deadline    time.Time // absolute end unless AUTH succeeds
	maxCommands int
	maxRefused  int
	commands    int
	refused     int
	closing     bool            // end the connection before the next command
	reply       func() net.Conn // where a reply goes: the TLS conn after STARTTLS
}

func newConnGuard(u config.Untrusted, now time.Time) *connGuard {
	return &connGuard{deadline: now.Add(u.AuthTimeout), maxCommands: u.MaxCommands, maxRefused: u.MaxRefused}
}

// active reports whether the guard still applies.
func (g *connGuard) active() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.lifted
}

// lift ends the guard: the client has authenticated.
func (g *connGuard) lift() {
	g.mu.Lock()
	g.lifted = true
	g.mu.Unlock()
}

// refuse counts a refused command and reports whether that was the last
// one allowed; the connection then ends after the reply.
func (g *connGuard) refuse() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lifted {
		return false
	}
	g.refused++
	if g.refused >= g.maxRefused {
		g.closing = true
		return true
	}
	return false
}

// setReply tells the guard where replies are written (go-smtp's current
// conn, which is a *tls.Conn after STARTTLS).
func (g *connGuard) setReply(f func() net.Conn) {
	g.mu.Lock()
	g.reply = f
	g.mu.Unlock()
}

// SetReadDeadline is called by go-smtp before each command line: the
// guard counts it, ends the connection when a limit is reached, and never
// lets the deadline pass the outsider's absolute one.
func (c *limitConn) SetReadDeadline(t time.Time) error {
	g := c.guard
	if g == nil {
		return c.Conn.SetReadDeadline(t)
	}
	g.mu.Lock()
	if g.lifted {
		g.mu.Unlock()
		return c.Conn.SetReadDeadline(t)
	}
	g.commands++
	closing, overCommands := g.closing, g.commands > g.maxCommands
	reply := g.reply
	if t.IsZero() || t.After(g.deadline) {
		t = g.deadline
	}
	g.mu.Unlock()
	switch {
	case closing:
		c.metrics.Rejected.WithLabelValues("untrusted_refused").Inc()
		c.Close()
		return errGuardClosed
	case overCommands:
		c.metrics.Rejected.WithLabelValues("untrusted_commands").Inc()
		// The previous reply is written; no other goroutine writes now.
		w := net.Conn(c)
		if reply != nil {
			w = reply()
		}
		w.SetWriteDeadline(time.Now().Add(5 * time.Second))
		w.Write([]byte(tooManyCommands))
		c.Close()
		return errGuardClosed
	}
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline keeps an outsider's writes within its deadline, with a
// little grace for the final 421.
func (c *limitConn) SetWriteDeadline(t time.Time) error {
	if g := c.guard; g != nil {
		g.mu.Lock()
		if end := g.deadline.Add(5 * time.Second); !g.lifted && (t.IsZero() || t.After(end)) {
			t = end
		}
		g.mu.Unlock()
	}
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline clamps like the two above but counts no command: go-smtp
// uses it for nothing that reads a command line.
func (c *limitConn) SetDeadline(t time.Time) error {
	g := c.guard
	if g == nil {
		return c.Conn.SetDeadline(t)
	}
	g.mu.Lock()
	rt := t
	if !g.lifted && (rt.IsZero() || rt.After(g.deadline)) {
		rt = g.deadline
	}
	g.mu.Unlock()
	if err := c.Conn.SetReadDeadline(rt); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// guardOf finds the guard of an accepted connection, also under TLS.
func guardOf(nc net.Conn) (*limitConn, *connGuard) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	lc, ok := nc.(*limitConn)
	if !ok {
		return nil, nil
	}
	return lc, lc.guard
}

// hygieneSession counts the refusals of an outsider's MAIL and RCPT; the
// session's own logic is unchanged.
type hygieneSession struct{ *session }

func (h hygieneSession) Mail(from string, opts *smtp.MailOptions) error {
	return h.refused(h.session.Mail(from, opts))
}

func (h hygieneSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	return h.refused(h.session.Rcpt(to, opts))
}

// refused passes err through, counting it against an outsider; the last
// refusal allowed becomes 421 4.7.0 and ends the connection.
func (s *session) refused(err error) error {
	if err == nil || !s.guard.active() {
		return err
	}
	if s.guard.refuse() {
		s.log.Warn("too many refused commands, closing connection")
		return errTooManyRefused
	}
	return err
}
