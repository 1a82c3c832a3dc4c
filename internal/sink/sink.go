// Package sink is a recording SMTP server for tests: the "next hop" that
// sendguard delivers to, on a loopback port.
package sink

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one received transaction.
type Message struct {
	From string
	To   []string
	Data []byte // nil with Options.SizeOnly
	Size int64
	At   time.Time
}

// Sink records every message it accepts.
type Sink struct {
	Addr string

	srv *smtp.Server
	ln  net.Listener

	mu   sync.Mutex
	msgs []Message
	// RcptErr, if set, decides a reply per recipient (nil accepts).
	RcptErr func(rcpt string) *smtp.SMTPError
	// DataErr, if set, answers DATA with this error.
	DataErr  *smtp.SMTPError
	notify   chan struct{}
	sessions int
	opt      Options
}

// Options change what the sink offers.
type Options struct {
	NoSMTPUTF8 bool // do not offer SMTPUTF8 (RFC 6531)
	// SizeOnly reads each body through and keeps its size only: a next
	// hop in a measured process must not hold the mail it receives.
	SizeOnly bool
	// OnMessage, if set, is called with each message once it is recorded.
	OnMessage func(Message)
}

// Start listens on addr ("127.0.0.1:0" for any port).
func Start(addr string) (*Sink, error) { return StartWith(addr, Options{}) }

// StartWith is Start with options.
func StartWith(addr string, o Options) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: ln.Addr().String(), ln: ln, notify: make(chan struct{}, 1), opt: o}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &session{s: s}, nil
	}))
	s.srv.Domain = "sink.test"
	s.srv.MaxLineLength = 1 << 20
	s.srv.EnableSMTPUTF8 = !o.NoSMTPUTF8
	s.srv.EnableDSN = true
	s.srv.ErrorLog = nopLogger{}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Messages returns a copy of what has arrived.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Sessions is the number of SMTP sessions seen.
func (s *Sink) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Wait blocks until n messages have arrived or timeout passes.
func (s *Sink) Wait(n int, timeout time.Duration) ([]Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return msgs, fmt.Errorf("sink: %d of %d messages after %s", len(msgs), n, timeout)
		}
		select {
		case <-s.notify:
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}

type session struct {
	s    *Sink
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	f := ss.s.RcptErr
	ss.s.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}
func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	var dst io.Writer = &b
	if ss.s.opt.SizeOnly {
		dst = io.Discard
	}
	n, err := io.Copy(dst, r)
	if err != nil {
		return err
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Size: n, At: time.Now()}
	if !ss.s.opt.SizeOnly {
		m.Data = b.Bytes()
	}
	ss.s.mu.Lock()
	if ss.s.DataErr != nil {
		defer ss.s.mu.Unlock()
		return ss.s.DataErr
	}
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	select {
	case ss.s.notify <- struct{}{}:
	default:
	}
	if ss.s.opt.OnMessage != nil {
		ss.s.opt.OnMessage(m)
	}
	return nil
}

// SetRcptErr sets the per-recipient reply function.
func (s *Sink) SetRcptErr(f func(rcpt string) *smtp.SMTPError) {
	s.mu.Lock()
	s.RcptErr = f
	s.mu.Unlock()
}

// SetDataErr sets the DATA reply.
func (s *Sink) SetDataErr(e *smtp.SMTPError) {
	s.mu.Lock()
	s.DataErr = e
	s.mu.Unlock()
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}
