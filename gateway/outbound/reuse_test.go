package outbound

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// peerAction is what a scriptPeer does with a command.
type peerAction int

const (
	answer     peerAction = iota // reply as usual
	hangUp                       // close without replying
	closing421                   // reply 421 and close
)

// scriptPeer is a small SMTP server on loopback whose answers a test
// scripts per connection and command, and which records every command per
// connection.
type scriptPeer struct {
	addr string
	// on decides, for connection conn (numbered from 0) and a command
	// verb, what the peer does.
	on func(conn int, verb string) peerAction
	// afterData runs after the 250 to a message's data; false ends the
	// connection (afterData may have closed it already).
	afterData func(conn int, c net.Conn) bool

	mu        sync.Mutex
	cmds      [][]string // per connection
	delivered int
}

func startPeer(t *testing.T, p *scriptPeer) *scriptPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			n := len(p.cmds)
			p.cmds = append(p.cmds, nil)
			p.mu.Unlock()
			wg.Go(func() { p.serve(n, c) })
		}
	})
	return p
}

func (p *scriptPeer) serve(n int, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	say := func(s string) { _, _ = io.WriteString(c, s) }
	say("220 peer.test ESMTP\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb, _, _ := strings.Cut(cmd, " ")
		verb = strings.ToUpper(verb)
		p.mu.Lock()
		p.cmds[n] = append(p.cmds[n], verb)
		p.mu.Unlock()
		act := answer
		if p.on != nil {
			act = p.on(n, verb)
		}
		switch act {
		case hangUp:
			return
		case closing421:
			say("421 4.3.2 peer.test closing\r\n")
			return
		}
		switch verb {
		case "EHLO":
			say("250-peer.test\r\n250 8BITMIME\r\n")
		case "DATA":
			say("354 go ahead\r\n")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			p.mu.Lock()
			p.delivered++
			p.mu.Unlock()
			say("250 2.0.0 queued\r\n")
			if p.afterData != nil && !p.afterData(n, c) {
				return
			}
		case "QUIT":
			say("221 bye\r\n")
			return
		default:
			say("250 ok\r\n")
		}
	}
}

// commands returns the verbs each connection sent, "|"-joined.
func (p *scriptPeer) commands() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.cmds))
	for i, c := range p.cmds {
		out[i] = strings.Join(c, "|")
	}
	return out
}

func (p *scriptPeer) deliveredCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delivered
}

// nthCommand counts the commands with verb per connection, for scripts.
type nthCommand struct {
	mu sync.Mutex
	n  map[[2]any]int
}

func (c *nthCommand) next(conn int, verb string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[[2]any]int{}
	}
	k := [2]any{conn, verb}
	c.n[k]++
	return c.n[k]
}

// logBuffer collects a client's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// loggedClient is newClient with its log at debug level kept in the
// returned buffer.
func loggedClient(t *testing.T, cfg Config) (*Client, *logBuffer) {
	t.Helper()
	c := newClient(t, cfg)
	lb := &logBuffer{}
	c.log = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return c, lb
}

// peekable: pooled sessions are checked by a look at the socket here;
// elsewhere always with RSET.
const peekable = runtime.GOOS == "linux"

// wantRSETs is how many RSETs a test expects where a system that cannot
// look at a socket sends one per reuse.
func wantRSETs(n, reuses int) int {
	if peekable {
		return n
	}
	return reuses
}

var oneRcpt = Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}

// noFailureLogged fails the test if a delivery failure was logged.
func noFailureLogged(t *testing.T, lb *logBuffer) {
	t.Helper()
	if s := lb.String(); strings.Contains(s, "level=WARN") || strings.Contains(s, "level=ERROR") {
		t.Errorf("failure logged:\n%s", s)
	}
}

func TestReuseWithoutRSET(t *testing.T) {
	if !peekable {
		t.Skip("pooled sessions are checked with RSET on " + runtime.GOOS)
	}
	srvTLS, _ := selfSigned(t)
	t.Run("plain", func(t *testing.T) {
		s := startSink(t, sinkOpts{})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		for range 3 {
			wantDelivered(t, deliver(t, c, oneRcpt))
		}
		raw := s.rawText()
		if got := strings.Count(raw, "RSET\r\n"); got != 0 {
			t.Errorf("RSET sent %d times on a session whose transactions ended cleanly", got)
		}
		if got := strings.Count(raw, "MAIL FROM:"); got != 3 {
			t.Errorf("MAIL sent %d times, want 3", got)
		}
		if accepted, _, _ := s.stats(); accepted != 1 || len(s.messages()) != 3 {
			t.Errorf("%d connections, %d messages; want 1, 3", accepted, len(s.messages()))
		}
	})
	t.Run("starttls", func(t *testing.T) {
		s := startSink(t, sinkOpts{tls: srvTLS})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSRequired})
		for range 3 {
			wantDelivered(t, deliver(t, c, oneRcpt))
		}
		plain := s.plainText()
		if got := strings.Count(plain, "RSET\r\n"); got != 0 {
			t.Errorf("RSET sent %d times over TLS", got)
		}
		if got := strings.Count(plain, "MAIL FROM:"); got != 3 {
			t.Errorf("MAIL sent %d times, want 3", got)
		}
		msgs := s.messages()
		if accepted, _, _ := s.stats(); accepted != 1 || len(msgs) != 3 {
			t.Fatalf("%d connections, %d messages; want 1, 3", accepted, len(msgs))
		}
		for _, m := range msgs {
			if !m.tls {
				t.Error("message not over TLS")
			}
		}
	})
	t.Run("idle-longer-checks-with-RSET", func(t *testing.T) {
		s := startSink(t, sinkOpts{})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		c.peekIdle = 0
		for range 3 {
			wantDelivered(t, deliver(t, c, oneRcpt))
		}
		if got := strings.Count(s.rawText(), "RSET\r\n"); got != 2 {
			t.Errorf("RSET sent %d times, want once per reuse (2)", got)
		}
	})
	t.Run("data-refused-is-clean", func(t *testing.T) {
		// A reply to the data, even a refusal, ends the transaction.
		var n atomic.Int32
		s := startSink(t, sinkOpts{data: func([]string) error {
			if n.Add(1) == 1 {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "refused"}
			}
			return nil
		}})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		if r := deliver(t, c, oneRcpt)[0]; r.Delivered || r.Code != 554 {
			t.Fatalf("refused data: %+v", r)
		}
		wantDelivered(t, deliver(t, c, oneRcpt))
		if got := strings.Count(s.rawText(), "RSET\r\n"); got != 0 {
			t.Errorf("RSET sent %d times after a refused message", got)
		}
	})
	t.Run("sender-refused-needs-RSET", func(t *testing.T) {
		s := startSink(t, sinkOpts{mail: func(_ net.Conn, from string) error {
			if strings.HasPrefix(from, "bad@") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender refused"}
			}
			return nil
		}})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		if r := deliver(t, c, Envelope{MailFrom: "bad@example.com", Rcpts: []string{"b@x.test"}})[0]; r.Delivered || r.Code != 550 {
			t.Fatalf("refused sender: %+v", r)
		}
		wantDelivered(t, deliver(t, c, oneRcpt))
		raw := s.rawText()
		if got := strings.Count(raw, "RSET\r\n"); got != 1 || !strings.Contains(raw, "RSET\r\nMAIL FROM:<a@example.com>") {
			t.Errorf("want one RSET before the next MAIL:\n%s", raw)
		}
		if accepted, _, _ := s.stats(); accepted != 1 {
			t.Errorf("%d connections, want 1", accepted)
		}
	})
	t.Run("no-socket-to-look-at", func(t *testing.T) {
		// A connection that is not a socket (here a wrapper from a custom
		// Dialer) cannot be looked at: RSET, as on other systems.
		s := startSink(t, sinkOpts{})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, Dialer: wrapDialer{}})
		for range 3 {
			wantDelivered(t, deliver(t, c, oneRcpt))
		}
		if got := strings.Count(s.rawText(), "RSET\r\n"); got != 2 {
			t.Errorf("RSET sent %d times, want once per reuse (2)", got)
		}
	})
}

// wrapDialer hides the socket behind a plain net.Conn.
type wrapDialer struct{}

type opaqueConn struct{ net.Conn }

func (wrapDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

func TestIdleSessionClosedByPeer(t *testing.T) {
	if !peekable {
		t.Skip("pooled sessions are checked with RSET on " + runtime.GOOS)
	}
	const idle421 = "421 4.4.2 peer.test idle timeout\r\n"
	for _, tc := range []struct {
		name  string
		wait  time.Duration // after the first message's 250
		say   string        // then sent
		close bool          // then closes
		// withReply: the 421 may come in one read with the 250 and sit in
		// the client's buffer, where no look at the socket sees it; MAIL
		// then reads it and is retried on a new session.
		withReply bool
	}{
		{"closed", 20 * time.Millisecond, "", true, false},
		{"421-closed", 20 * time.Millisecond, idle421, true, false},
		{"421-left-open", 20 * time.Millisecond, idle421, false, false},
		{"421-closed-with-the-reply", 0, idle421, true, false},
		{"421-left-open-with-the-reply", 0, idle421, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			p := startPeer(t, &scriptPeer{afterData: func(conn int, c net.Conn) bool {
				if conn != 0 {
					return true
				}
				time.Sleep(tc.wait)
				if tc.say != "" {
					_, _ = io.WriteString(c, tc.say)
				}
				if tc.close {
					c.Close()
				}
				close(done)
				return !tc.close
			}})
			c, lb := loggedClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(p.addr), TLS: TLSNone})
			wantDelivered(t, deliver(t, c, oneRcpt))
			<-done
			time.Sleep(20 * time.Millisecond) // let the FIN land on loopback
			res := deliver(t, c, oneRcpt)
			wantDelivered(t, res)
			if !res[0].FromPeer || res[0].Temporary {
				t.Errorf("result %+v", res[0])
			}
			cmds := p.commands()
			// The look at the socket found it unusable: nothing more was
			// sent on it, no RSET anywhere.
			first := cmds[0] == "EHLO|MAIL|RCPT|DATA" || tc.withReply && cmds[0] == "EHLO|MAIL|RCPT|DATA|MAIL"
			if len(cmds) != 2 || !first || cmds[1] != "EHLO|MAIL|RCPT|DATA" {
				t.Errorf("commands per connection %q", cmds)
			}
			if p.deliveredCount() != 2 {
				t.Errorf("%d messages at the peer, want 2", p.deliveredCount())
			}
			noFailureLogged(t, lb)
			if !tc.withReply && strings.Contains(lb.String(), "retrying") {
				t.Error("the closed session was found at MAIL, not by the look at its socket")
			}
		})
	}
	t.Run("starttls-421", func(t *testing.T) {
		// go-smtp's server sends 421 over TLS and closes at its idle limit.
		srvTLS, _ := selfSigned(t)
		s := startSink(t, sinkOpts{tls: srvTLS, readTimeout: 300 * time.Millisecond})
		c, lb := loggedClient(t, Config{NextHop: relay(s), TLS: TLSRequired})
		wantDelivered(t, deliver(t, c, oneRcpt))
		s.waitOpen(t, 0)
		wantDelivered(t, deliver(t, c, oneRcpt))
		plain := s.plainText()
		if !strings.Contains(plain, "421 4.4.2 Idle timeout") {
			t.Errorf("the sink did not time out:\n%s", plain)
		}
		if got := strings.Count(plain, "MAIL FROM:"); got != 2 {
			t.Errorf("MAIL sent %d times, want 2", got)
		}
		if accepted, _, _ := s.stats(); accepted != 2 || len(s.messages()) != 2 {
			t.Errorf("%d connections, %d messages; want 2, 2", accepted, len(s.messages()))
		}
		noFailureLogged(t, lb)
	})
}

func TestMailRetriedOnNewSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  peerAction
	}{{"hang-up", hangUp}, {"421", closing421}} {
		t.Run(tc.name, func(t *testing.T) {
			// The peer takes the pooled session's MAIL and goes away: the
			// race between the look at the socket and MAIL.
			var n nthCommand
			p := startPeer(t, &scriptPeer{on: func(conn int, verb string) peerAction {
				if conn == 0 && verb == "MAIL" && n.next(conn, verb) == 2 {
					return tc.act
				}
				return answer
			}})
			c, lb := loggedClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(p.addr), TLS: TLSNone})
			var accepted [][]RcptResult
			env := oneRcpt
			env.Accepted = func(r []RcptResult) { accepted = append(accepted, r) }
			wantDelivered(t, deliver(t, c, env))
			res := deliver(t, c, env)
			wantDelivered(t, res)
			if r := res[0]; !r.FromPeer || r.Temporary || r.Enhanced != "2.0.0" {
				t.Errorf("result %+v", r)
			}
			if len(accepted) != 2 {
				t.Errorf("Accepted called %d times, want once per delivery", len(accepted))
			}
			cmds := p.commands()
			if len(cmds) != 2 || cmds[0] != "EHLO|MAIL|RCPT|DATA|MAIL" || cmds[1] != "EHLO|MAIL|RCPT|DATA" {
				t.Errorf("commands per connection %q", cmds)
			}
			if p.deliveredCount() != 2 {
				t.Errorf("%d messages at the peer, want 2 (each once)", p.deliveredCount())
			}
			noFailureLogged(t, lb)
			if !strings.Contains(lb.String(), "retrying on a new connection") {
				t.Error("retry not logged at debug level")
			}
		})
	}
	t.Run("new-session-not-retried", func(t *testing.T) {
		// On a session just opened a dropped MAIL is a failure like any.
		p := startPeer(t, &scriptPeer{on: func(conn int, verb string) peerAction {
			if conn == 0 && verb == "MAIL" {
				return hangUp
			}
			return answer
		}})
		c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(p.addr), TLS: TLSNone})
		if r := deliver(t, c, oneRcpt)[0]; r.Delivered || !r.Temporary || r.FromPeer {
			t.Fatalf("result %+v", r)
		}
		if cmds := p.commands(); len(cmds) != 1 {
			t.Errorf("commands per connection %q, want one connection", cmds)
		}
	})
	t.Run("retried-once", func(t *testing.T) {
		// The new session drops MAIL too: that failure is reported, and no
		// third connection is tried.
		var n nthCommand
		p := startPeer(t, &scriptPeer{on: func(conn int, verb string) peerAction {
			if verb == "MAIL" && (conn == 0 && n.next(conn, verb) == 2 || conn == 1) {
				return hangUp
			}
			return answer
		}})
		c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(p.addr), TLS: TLSNone})
		wantDelivered(t, deliver(t, c, oneRcpt))
		if r := deliver(t, c, oneRcpt)[0]; r.Delivered || !r.Temporary {
			t.Fatalf("result %+v", r)
		}
		if cmds := p.commands(); len(cmds) != 2 || cmds[1] != "EHLO|MAIL" {
			t.Errorf("commands per connection %q", cmds)
		}
		if p.deliveredCount() != 1 {
			t.Errorf("%d messages at the peer, want 1", p.deliveredCount())
		}
	})
	t.Run("starttls", func(t *testing.T) {
		srvTLS, _ := selfSigned(t)
		var mails atomic.Int32
		s := startSink(t, sinkOpts{tls: srvTLS, mail: func(c net.Conn, _ string) error {
			if mails.Add(1) == 2 {
				c.Close()
				return errors.New("closed")
			}
			return nil
		}})
		c, lb := loggedClient(t, Config{NextHop: relay(s), TLS: TLSRequired})
		wantDelivered(t, deliver(t, c, oneRcpt))
		wantDelivered(t, deliver(t, c, oneRcpt))
		if accepted, _, _ := s.stats(); accepted != 2 || len(s.messages()) != 2 {
			t.Errorf("%d connections, %d messages; want 2, 2", accepted, len(s.messages()))
		}
		if got := mails.Load(); got != 3 {
			t.Errorf("MAIL received %d times, want 3", got)
		}
		noFailureLogged(t, lb)
	})
}
