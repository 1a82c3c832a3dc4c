package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// sink is the next hop of both relays under test: it reads every message
// (streaming, nothing kept) and counts it by Message-ID. Corpus messages
// carry IDs the driver made (see msgID); anything else is mail the relay
// generated itself: password mails and other notices, counted apart.
type sink struct {
	addr string
	srv  *smtp.Server

	mu        sync.Mutex
	got       map[string]int // corpus Message-ID → deliveries
	passwords int
	notices   int
	other     int
	last      time.Time // time of the last delivery
	changed   chan struct{}
}

func startSink(addr string) (*sink, error) {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return nil, fmt.Errorf("sink address %q: want a loopback host:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &sink{addr: ln.Addr().String(), got: map[string]int{}, changed: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "sink.bench.test"
	s.srv.MaxLineLength = 1 << 20
	s.srv.MaxMessageBytes = 256 << 20
	s.srv.MaxRecipients = 1000
	s.srv.ReadTimeout = 2 * time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

// counts is a snapshot of the sink's counters of generated mail.
type counts struct {
	passwords, notices, other int
	last                      time.Time // the last delivery of any kind
}

func (s *sink) snapshot() counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return counts{passwords: s.passwords, notices: s.notices, other: s.other, last: s.last}
}

// delivered returns how many of the corpus Message-IDs arrived.
func (s *sink) delivered(ids []string) (n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.got[id] > 0 {
			n++
		}
	}
	return n
}

// wait blocks until cond holds or the deadline passes; it reports whether
// cond held.
func (s *sink) wait(deadline time.Time, cond func() bool) bool {
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-s.changed:
		case <-time.After(min(left, 100*time.Millisecond)):
		}
	}
	return true
}

func (s *sink) record(h textproto.MIMEHeader) {
	id := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	s.mu.Lock()
	switch {
	case strings.HasSuffix(id, "@"+benchIDDomain):
		s.got[id]++
	case h.Get("Auto-Submitted") != "":
		subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			subj = h.Get("Subject")
		}
		if strings.Contains(subj, "パスワード") || strings.Contains(strings.ToLower(subj), "password") {
			s.passwords++
		} else {
			s.notices++
		}
	default:
		s.other++
	}
	s.last = time.Now()
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

type sinkSession struct{ s *sink }

func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }
func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	br := bufio.NewReaderSize(r, 32<<10)
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		io.Copy(io.Discard, br)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unreadable header"}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	ss.s.record(h)
	return nil
}
