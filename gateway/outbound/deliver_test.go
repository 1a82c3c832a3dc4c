package outbound

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const testBody = "From: a@example.com\r\nTo: b@example.net\r\nSubject: test\r\n\r\n" +
	"line one\r\n.leading dot\r\n..two dots\r\n日本語 8bit\r\n\r\nlast line without newline"

func bodyOf(s string) BodyFunc {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.HeloName == "" {
		cfg.HeloName = "gw.example.com"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 2 * time.Second
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 5 * time.Second
	}
	if cfg.DataTimeout == 0 {
		cfg.DataTimeout = 5 * time.Second
	}
	c, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func relay(s *sink) string { return "[" + hostOnly(s.addr) + "]:" + portOf(s.addr) }

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}

func deliver(t *testing.T, c *Client, env Envelope) []RcptResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Deliver(ctx, env, bodyOf(testBody))
}

func wantDelivered(t *testing.T, res []RcptResult) {
	t.Helper()
	for _, r := range res {
		if !r.Delivered || r.Code != 250 {
			t.Fatalf("%s not delivered: %+v", r.Rcpt, r)
		}
	}
}

// wantCanon is what a correct SMTP client puts on the wire for testBody:
// a final CRLF is added, the content is otherwise unchanged (dot-stuffing
// is undone by the server).
const wantCanon = testBody + "\r\n"

func TestDeliverBytesExact(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	res := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@example.net", "c@example.org"}, EightBit: true})
	wantDelivered(t, res)
	if res[0].Enhanced != "2.0.0" || res[0].RemoteHost == "" || !res[0].FromPeer {
		t.Errorf("result = %+v", res[0])
	}
	msgs := s.messages()
	if len(msgs) != 1 {
		t.Fatalf("sink got %d messages, want 1 transaction for one next hop", len(msgs))
	}
	m := msgs[0]
	if m.from != "a@example.com" || strings.Join(m.rcpts, ",") != "b@example.net,c@example.org" {
		t.Errorf("envelope = %q %q", m.from, m.rcpts)
	}
	if string(m.body) != wantCanon {
		t.Errorf("body differs:\n got %q\nwant %q", m.body, wantCanon)
	}
	if !strings.Contains(s.rawText(), "EHLO gw.example.com\r\n") {
		t.Error("EHLO did not use HeloName")
	}
}

func TestNullSender(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "", Rcpts: []string{"b@x.test"}}))
	if !strings.Contains(s.rawText(), "MAIL FROM:<>") || s.messages()[0].from != "" {
		t.Fatalf("null sender not sent as <>: %q", s.rawText())
	}
}

func TestPanicInBodyIsContained(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, MaxConnsPerDest: 1})
	r := c.Deliver(context.Background(), Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}},
		func() (io.ReadCloser, error) { panic("spool bug") })[0]
	if r.Delivered || !r.Temporary || r.Rcpt != "b@x.test" {
		t.Fatalf("result %+v", r)
	}
	// The only connection slot was given back.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	wantDelivered(t, c.Deliver(ctx, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}, bodyOf(testBody)))
}

func TestPerRecipientReplies(t *testing.T) {
	s := startSink(t, sinkOpts{rcpt: func(to string) error {
		switch {
		case strings.HasPrefix(to, "unknown"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user\nsecond line"}
		case strings.HasPrefix(to, "full"):
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
		}
		return nil
	}})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	res := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"ok@x.test", "unknown@x.test", "full@x.test", "bad address"}})
	want := []struct {
		code      int
		enh       string
		delivered bool
		temp      bool
	}{{250, "2.0.0", true, false}, {550, "5.1.1", false, false}, {452, "4.2.2", false, true}, {553, "5.1.3", false, false}}
	for i, w := range want {
		r := res[i]
		if r.Code != w.code || r.Enhanced != w.enh || r.Delivered != w.delivered || r.Temporary != w.temp {
			t.Errorf("%d: got %+v, want %+v", i, r, w)
		}
	}
	if res[1].Message != "no such user second line" {
		t.Errorf("multi-line reply not folded: %q", res[1].Message)
	}
	msgs := s.messages()
	if len(msgs) != 1 || len(msgs[0].rcpts) != 1 || msgs[0].rcpts[0] != "ok@x.test" {
		t.Fatalf("sink got %+v", msgs)
	}
}

func TestDataReplies(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *smtp.SMTPError
		temp bool
	}{
		{"5xx", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}, false},
		{"4xx", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSink(t, sinkOpts{
				rcpt: func(to string) error {
					if strings.HasPrefix(to, "no") {
						return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}
					}
					return nil
				},
				data: func([]string) error { return tc.err },
			})
			c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
			res := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@x.test", "no@x.test", "y@x.test"}})
			for _, i := range []int{0, 2} {
				r := res[i]
				if r.Delivered || r.Code != tc.err.Code || r.Temporary != tc.temp || r.Message != tc.err.Message {
					t.Errorf("accepted rcpt %d: %+v", i, r)
				}
			}
			if res[1].Code != 550 || res[1].Temporary {
				t.Errorf("rejected rcpt keeps its own reply: %+v", res[1])
			}
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk error")
	}
	n := min(len(p), f.n)
	for i := range n {
		p[i] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"[(f.n-i)%66]
	}
	f.n -= n
	return n, nil
}

func TestBodyReadErrorSendsNothing(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	body := func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("Subject: x\r\n\r\n"), &failingReader{n: 100000})), nil
	}
	res := c.Deliver(context.Background(), Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}, body)
	if r := res[0]; r.Delivered || !r.Temporary || r.Enhanced != "4.3.0" {
		t.Fatalf("result %+v", r)
	}
	s.waitOpen(t, 0)
	if n := len(s.messages()); n != 0 {
		t.Fatalf("a truncated message was accepted (%d)", n)
	}
	// The client recovers: the next delivery uses a fresh connection.
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
}

func TestBodyOpenError(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	res := c.Deliver(context.Background(), Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}},
		func() (io.ReadCloser, error) { return nil, errors.New("gone") })
	if r := res[0]; !r.Temporary || r.Delivered {
		t.Fatalf("result %+v", r)
	}
}

func TestSTARTTLS(t *testing.T) {
	srvTLS, roots := selfSigned(t)
	for _, tc := range []struct {
		name      string
		peerTLS   bool
		policy    TLSPolicy
		verify    bool
		roots     bool
		delivered bool
		overTLS   bool
		enhanced  string
	}{
		{"opportunistic/peer-tls", true, TLSOpportunistic, false, false, true, true, ""},
		{"opportunistic/peer-plain", false, TLSOpportunistic, false, false, true, false, ""},
		{"required/peer-tls", true, TLSRequired, false, false, true, true, ""},
		{"required/peer-plain", false, TLSRequired, false, false, false, false, "4.7.0"},
		{"required/verify-untrusted", true, TLSRequired, true, false, false, false, "4.7.5"},
		{"required/verify-trusted", true, TLSRequired, true, true, true, true, ""},
		{"opportunistic/verify-untrusted", true, TLSOpportunistic, true, false, false, false, "4.7.5"},
		{"none/peer-tls", true, TLSNone, false, false, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := sinkOpts{}
			if tc.peerTLS {
				o.tls = srvTLS
			}
			s := startSink(t, o)
			cfg := Config{NextHop: relay(s), TLS: tc.policy, TLSVerify: tc.verify}
			if tc.roots {
				cfg.RootCAs = roots
			} else {
				cfg.RootCAs = x509EmptyPool()
			}
			c := newClient(t, cfg)
			res := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})
			r := res[0]
			if r.Delivered != tc.delivered {
				t.Fatalf("delivered = %v, want %v (%+v)", r.Delivered, tc.delivered, r)
			}
			msgs := s.messages()
			if !tc.delivered {
				if !r.Temporary || r.Enhanced != tc.enhanced {
					t.Errorf("result %+v, want temporary %s", r, tc.enhanced)
				}
				if len(msgs) != 0 || strings.Contains(s.rawText(), "MAIL FROM") {
					t.Errorf("something was sent: %q", s.rawText())
				}
				return
			}
			if len(msgs) != 1 || msgs[0].tls != tc.overTLS {
				t.Fatalf("msgs %d, tls want %v", len(msgs), tc.overTLS)
			}
			if tc.overTLS && strings.Contains(s.rawText(), "MAIL FROM") {
				t.Error("MAIL FROM seen in clear text")
			}
		})
	}
}

func TestAuth(t *testing.T) {
	srvTLS, _ := selfSigned(t)
	users := map[string]string{"relay": "s3cret"}
	t.Run("ok-over-tls", func(t *testing.T) {
		s := startSink(t, sinkOpts{tls: srvTLS, users: users})
		c := newClient(t, Config{NextHop: relay(s), Username: "relay", Password: "s3cret"})
		wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
		if m := s.messages(); len(m) != 1 || m[0].user != "relay" || !m[0].tls {
			t.Fatalf("msgs %+v", m)
		}
	})
	t.Run("wrong-password-defers", func(t *testing.T) {
		s := startSink(t, sinkOpts{tls: srvTLS, users: users})
		c := newClient(t, Config{NextHop: relay(s), Username: "relay", Password: "wrong"})
		r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
		if r.Delivered || !r.Temporary || !strings.Contains(r.Message, "authentication failed") {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("no-credentials-in-clear", func(t *testing.T) {
		s := startSink(t, sinkOpts{users: users, plainAuth: true})
		c := newClient(t, Config{NextHop: relay(s), Username: "relay", Password: "s3cret"})
		r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
		if r.Delivered || !r.Temporary || r.Enhanced != "4.7.0" {
			t.Fatalf("result %+v", r)
		}
		if strings.Contains(s.rawText(), "AUTH") {
			t.Fatal("AUTH sent without TLS")
		}
	})
	t.Run("insecure-allowed", func(t *testing.T) {
		s := startSink(t, sinkOpts{users: users, plainAuth: true})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, Username: "relay", Password: "s3cret", AllowInsecureAuth: true})
		wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	})
}

func TestConnectionReuse(t *testing.T) {
	srvTLS, _ := selfSigned(t)
	s := startSink(t, sinkOpts{tls: srvTLS, users: map[string]string{"u": "p"}})
	c := newClient(t, Config{NextHop: relay(s), Username: "u", Password: "p", MaxMsgsPerConn: 4})
	const n = 10
	for i := range n {
		res := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})
		wantDelivered(t, res)
		if i == 0 && s.authCount() != 1 {
			t.Fatal("first message did not authenticate")
		}
	}
	msgs := s.messages()
	if len(msgs) != n {
		t.Fatalf("sink got %d messages", len(msgs))
	}
	for _, m := range msgs {
		if string(m.body) != wantCanon || !m.tls || m.user != "u" {
			t.Fatalf("message on reused connection: tls=%v user=%q body ok=%v", m.tls, m.user, string(m.body) == wantCanon)
		}
	}
	accepted, _, _ := s.stats()
	// 10 messages, at most 4 per connection: 3 connections.
	if accepted != 3 {
		t.Fatalf("sink accepted %d connections, want 3", accepted)
	}
	if got := s.authCount(); got != 3 {
		t.Errorf("AUTH done %d times, want once per connection (3)", got)
	}
	c.Close()
	s.waitOpen(t, 0)
}

func TestIdleTimeoutAndClose(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, IdleTimeout: 50 * time.Millisecond})
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	s.waitOpen(t, 0) // the idle connection is closed by the timer
	if !strings.Contains(s.rawText(), "QUIT") {
		t.Error("idle connection closed without QUIT")
	}
	if strings.Contains(s.rawText(), "RSET") {
		t.Error("RSET on a new connection")
	}
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	if accepted, _, _ := s.stats(); accepted != 2 {
		t.Fatalf("accepted %d connections, want 2", accepted)
	}

	c2 := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, IdleTimeout: time.Minute})
	wantDelivered(t, deliver(t, c2, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	wantDelivered(t, deliver(t, c2, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	// The first transaction ended with the reply to its data and the
	// session was idle briefly: it is reused after a look at its socket,
	// without RSET (TestReuseWithoutRSET has the cases that need one).
	if got, want := strings.Count(s.rawText(), "RSET\r\n"), wantRSETs(0, 1); got != want {
		t.Errorf("RSET sent %d times, want %d", got, want)
	}
	if got := strings.Count(s.rawText(), "EHLO "); got != 3 {
		t.Errorf("EHLO sent %d times, want once per connection (3)", got)
	}
	s.waitOpen(t, 1)
	c2.Close()
	s.waitOpen(t, 0)
	r := deliver(t, c2, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
	if r.Delivered || !r.Temporary {
		t.Fatalf("Deliver after Close: %+v", r)
	}
}

func TestOpenTransactionIsReset(t *testing.T) {
	// Every recipient refused: MAIL was accepted and no data followed, so
	// the transaction is still open; the next user checks the pooled
	// session with RSET, which clears it (a second MAIL would be refused as
	// nested). The delivered transaction after it needs none.
	s := startSink(t, sinkOpts{rcpt: func(to string) error {
		if strings.HasPrefix(to, "no@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, IdleTimeout: time.Minute})
	if r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"no@x.test"}})[0]; r.Delivered || r.Temporary {
		t.Fatalf("refused recipient: %+v", r)
	}
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	raw := s.rawText()
	if got, want := strings.Count(raw, "RSET\r\n"), wantRSETs(1, 2); got != want {
		t.Errorf("RSET sent %d times, want %d: once after the refused recipient", got, want)
	}
	if !strings.Contains(raw, "RCPT TO:<no@x.test>\r\nRSET\r\nMAIL FROM:") {
		t.Errorf("RSET is not between the refused transaction and the next:\n%s", raw)
	}
	if got := strings.Count(raw, "EHLO "); got != 1 {
		t.Errorf("EHLO sent %d times, want once for the one connection", got)
	}
	if accepted, _, _ := s.stats(); accepted != 1 {
		t.Errorf("%d connections, want 1", accepted)
	}
	c.Close()
}

func TestStaleIdleConnectionIsReplaced(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	// The peer drops the idle connection (its own timeout); the next delivery
	// sees it closed at the look at its socket and dials again.
	s.srv.Close()
	s.waitOpen(t, 0)
	s2 := startSink(t, sinkOpts{ln: mustListen(t, s.addr)})
	wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}))
	if len(s2.messages()) != 1 {
		t.Fatal("message not delivered on a new connection")
	}
}

func TestConcurrencyLimit(t *testing.T) {
	s := startSink(t, sinkOpts{dataWait: 30 * time.Millisecond})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, MaxConnsPerDest: 2})
	var wg sync.WaitGroup
	const n = 8
	results := make([][]RcptResult, n)
	for i := range n {
		wg.Go(func() {
			results[i] = deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})
		})
	}
	wg.Wait()
	for _, r := range results {
		wantDelivered(t, r)
	}
	accepted, _, maxOpen := s.stats()
	if maxOpen != 2 {
		t.Fatalf("%d connections open at most, want the limit 2 reached and kept", maxOpen)
	}
	if accepted > 2 {
		t.Errorf("%d connections opened; idle ones should have been reused", accepted)
	}
}

func TestDSNParameters(t *testing.T) {
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test", "c@x.test"},
		Ret: RetHdrs, EnvID: "QID123",
		RcptDSN: map[string]RcptDSN{"b@x.test": {Notify: []string{"failure", "delay"}, ORcpt: "orig@example.net"}}}
	t.Run("peer-with-dsn", func(t *testing.T) {
		s := startSink(t, sinkOpts{dsn: true})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		wantDelivered(t, deliver(t, c, env))
		m := s.messages()[0]
		if m.mailOpts.Return != smtp.DSNReturnHeaders || m.mailOpts.EnvelopeID != "QID123" {
			t.Errorf("MAIL options %+v", m.mailOpts)
		}
		o := m.rcptOpts[0]
		if len(o.Notify) != 2 || o.Notify[0] != smtp.DSNNotifyFailure || o.Notify[1] != smtp.DSNNotifyDelayed ||
			o.OriginalRecipient != "orig@example.net" || o.OriginalRecipientType != smtp.DSNAddressTypeRFC822 {
			t.Errorf("RCPT options %+v", o)
		}
		if len(m.rcptOpts[1].Notify) != 0 {
			t.Errorf("second rcpt got options %+v", m.rcptOpts[1])
		}
	})
	t.Run("peer-without-dsn", func(t *testing.T) {
		s := startSink(t, sinkOpts{})
		c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
		wantDelivered(t, deliver(t, c, env))
		if strings.Contains(s.rawText(), "NOTIFY=") || strings.Contains(s.rawText(), "RET=") {
			t.Error("DSN parameters sent to a peer without DSN")
		}
	})
}

func TestPeerLimits(t *testing.T) {
	s := startSink(t, sinkOpts{maxSize: 1000})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}, Size: 5000})[0]
	if r.Delivered || r.Temporary || r.Code != 552 || r.Enhanced != "5.3.4" {
		t.Fatalf("oversize: %+v", r)
	}
	r = deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}, SMTPUTF8: true})[0]
	if r.Delivered || r.Temporary || r.Enhanced != "5.6.7" {
		t.Fatalf("smtputf8: %+v", r)
	}
	if strings.Contains(s.rawText(), "MAIL FROM") {
		t.Fatal("a transaction was started although the peer cannot take the message")
	}
}

func TestContextCancelStopsHungPeer(t *testing.T) {
	s := startSink(t, sinkOpts{dataWait: 3 * time.Second})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := c.Deliver(ctx, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}, bodyOf(testBody))[0]
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Deliver took %v after cancel", time.Since(start))
	}
	if r.Delivered || !r.Temporary {
		t.Fatalf("result %+v", r)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{NextHop: "", TLS: "sometimes", Username: "u", MaxConnsPerDest: -1}, nil)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"NextHop", "HeloName", "TLS", "MaxConnsPerDest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	_, err = New(Config{NextHop: "relay.example:25", HeloName: "h", TLS: TLSNone, Username: "u"}, nil)
	if err == nil || !strings.Contains(err.Error(), "AllowInsecureAuth") {
		t.Errorf("AUTH without TLS accepted: %v", err)
	}
	for in, want := range map[string]nextHop{
		"mx":                  {mx: true, port: 25},
		"relay.example":       {host: "relay.example", port: 25, lookMX: true},
		"relay.example:587":   {host: "relay.example", port: 587, lookMX: true},
		"[relay.example]:587": {host: "relay.example", port: 587},
		"[relay.example]":     {host: "relay.example", port: 25},
		"192.0.2.1:26":        {host: "192.0.2.1", port: 26},
		"[::1]:2525":          {host: "::1", port: 2525},
	} {
		got, err := parseNextHop(in, 25)
		if err != nil || got != want {
			t.Errorf("parseNextHop(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"host:0", "host:x", "a b:25"} {
		if _, err := parseNextHop(bad, 25); err == nil {
			t.Errorf("parseNextHop(%q) accepted", bad)
		}
	}
}

func mustListen(t *testing.T, addr string) netListener {
	t.Helper()
	var lastErr error
	for range 50 {
		ln, err := listenTCP(addr)
		if err == nil {
			return ln
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(lastErr)
	return nil
}

// Accepted reports each transaction's recipients as soon as the peer
// answered 250 to the data, while Deliver is still working on the others.
func TestAcceptedPerTransaction(t *testing.T) {
	s := startSink(t, sinkOpts{})
	c := newClient(t, Config{NextHop: relay(s), TLS: TLSNone, MaxRcptsPerTxn: 2})
	var mu sync.Mutex
	var calls [][]RcptResult
	var seen []int // messages at the sink when each call came
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test", "c@x.test", "d@x.test"},
		Accepted: func(rs []RcptResult) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, rs)
			seen = append(seen, len(s.messages()))
		}}
	res := deliver(t, c, env)
	wantDelivered(t, res)
	// Two transactions (possibly in parallel): each call comes after its
	// own message reached the sink.
	if len(calls) != 2 || len(calls[0])+len(calls[1]) != 3 || seen[0] < 1 || seen[1] < 2 {
		t.Fatalf("accepted calls %+v at sink counts %v", calls, seen)
	}
	for _, r := range append(calls[0], calls[1]...) {
		if !r.Delivered || r.Code != 250 || !r.FromPeer || r.RemoteHost == "" {
			t.Fatalf("accepted result %+v", r)
		}
	}
}

// An envelope that requires TLS (its recipients' protection profile) goes
// out only over TLS, under the opportunistic policy too; without it the
// transaction is deferred before MAIL and nothing is sent.
func TestEnvelopeRequireTLS(t *testing.T) {
	srvTLS, _ := selfSigned(t)
	for _, tc := range []struct {
		name    string
		peerTLS bool
		policy  TLSPolicy
		want    bool
	}{
		{"opportunistic/peer-tls", true, TLSOpportunistic, true},
		{"opportunistic/peer-plain", false, TLSOpportunistic, false},
		{"none/peer-tls", true, TLSNone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := sinkOpts{}
			if tc.peerTLS {
				o.tls = srvTLS
			}
			s := startSink(t, o)
			c := newClient(t, Config{NextHop: relay(s), TLS: tc.policy, RootCAs: x509EmptyPool()})
			r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}, RequireTLS: true})[0]
			if r.Delivered != tc.want {
				t.Fatalf("delivered = %v, want %v (%+v)", r.Delivered, tc.want, r)
			}
			if !tc.want {
				if !r.Temporary || r.Enhanced != "4.7.0" || !strings.Contains(r.Message, "TLS is required") {
					t.Errorf("result %+v, want a temporary 4.7.0 naming TLS", r)
				}
				if strings.Contains(s.rawText(), "MAIL FROM") {
					t.Errorf("MAIL sent without TLS: %q", s.rawText())
				}
				return
			}
			if m := s.messages(); len(m) != 1 || !m[0].tls {
				t.Fatalf("msgs %+v, want one over TLS", m)
			}
		})
	}
}
