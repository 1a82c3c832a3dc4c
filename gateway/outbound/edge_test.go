package outbound

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
)

// rawServer serves every connection with a scripted exchange and records
// the lines clients sent.
type rawServer struct {
	addr  string
	mu    sync.Mutex
	lines []string
}

func startRaw(t *testing.T, script func(w io.Writer, readLine func() string)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				script(c, func() string {
					l, _ := br.ReadString('\n')
					rs.mu.Lock()
					rs.lines = append(rs.lines, strings.TrimRight(l, "\r\n"))
					rs.mu.Unlock()
					return l
				})
				io.Copy(io.Discard, br) //nolint:errcheck // drain until the client hangs up
			})
		}
	})
	return rs
}

func (rs *rawServer) sent() string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return strings.Join(rs.lines, "|")
}

func TestSTARTTLSResponseInjection(t *testing.T) {
	rs := startRaw(t, func(w io.Writer, readLine func() string) {
		io.WriteString(w, "220 raw ESMTP\r\n")
		readLine() // EHLO
		io.WriteString(w, "250-raw\r\n250 STARTTLS\r\n")
		readLine() // STARTTLS
		io.WriteString(w, "220 go ahead\r\n250 injected\r\n")
	})
	c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(rs.addr), TLS: TLSRequired})
	r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
	if r.Delivered || !r.Temporary || r.Enhanced != "4.7.5" || !strings.Contains(r.Message, "data after STARTTLS") {
		t.Fatalf("result %+v", r)
	}
	if strings.Contains(rs.sent(), "MAIL") {
		t.Fatal("MAIL sent after an injected STARTTLS reply")
	}
}

func TestGreeting5xxDefers(t *testing.T) {
	rs := startRaw(t, func(w io.Writer, readLine func() string) {
		io.WriteString(w, "554 5.7.1 go away\r\n")
	})
	c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(rs.addr), TLS: TLSNone})
	r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
	if r.Delivered || !r.Temporary || r.Code != 451 || r.Enhanced != "4.7.1" || !strings.Contains(r.Message, "554 5.7.1 go away") {
		t.Fatalf("result %+v", r)
	}
}

func TestOpportunisticFallsBackAfterFailedHandshake(t *testing.T) {
	srvTLS, _ := selfSigned(t)
	srvTLS.ClientAuth = tls.RequireAnyClientCert // we have none: the handshake fails
	t.Run("no-verify", func(t *testing.T) {
		s := startSink(t, sinkOpts{tls: srvTLS})
		c := newClient(t, Config{NextHop: relay(s)})
		wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
		if m := s.messages(); len(m) != 1 || m[0].tls {
			t.Fatalf("want one plain-text delivery, got %+v", m)
		}
		if accepted, _, _ := s.stats(); accepted != 2 {
			t.Errorf("%d connections, want 2 (TLS attempt, then plain)", accepted)
		}
	})
	t.Run("verify", func(t *testing.T) {
		s := startSink(t, sinkOpts{tls: srvTLS})
		c := newClient(t, Config{NextHop: relay(s), TLSVerify: true})
		r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
		if r.Delivered || !r.Temporary || r.Enhanced != "4.7.5" || len(s.messages()) != 0 {
			t.Fatalf("result %+v", r)
		}
	})
}

func TestRecipientsSplitIntoTransactions(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, MaxRcptsPerTxn: 2})
	rcpts := []string{"r1@x.test", "r2@x.test", "r3@x.test", "r4@x.test", "r5@x.test"}
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: rcpts}))
	var sizes []int
	seen := map[string]int{}
	for _, m := range s.messages() {
		sizes = append(sizes, len(m.rcpts))
		for _, r := range m.rcpts {
			seen[r]++
		}
	}
	sort.Ints(sizes)
	if len(sizes) != 3 || sizes[0] != 1 || sizes[2] != 2 || len(seen) != 5 {
		t.Fatalf("transactions %v, recipients %v", sizes, seen)
	}
}

func TestMailLoopDetected(t *testing.T) {
	for _, policy := range []TLSPolicy{TLSNone, TLSOpportunistic} {
		s := startSink(t, sinkOpts{domain: "GW.example.com"})
		c := newClient(t, Config{NextHop: relay(s), TLS: policy, HeloName: "gw.example.com"})
		r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
		if r.Delivered || !r.Temporary || r.Enhanced != "4.4.6" || !strings.Contains(r.Message, "loops back") {
			t.Fatalf("%s: result %+v", policy, r)
		}
		if strings.Contains(s.rawText(), "MAIL") {
			t.Fatalf("%s: MAIL sent to ourselves", policy)
		}
	}
}
