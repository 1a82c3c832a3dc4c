package outbound

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// sinkOpts scripts a recording SMTP server for tests.
type sinkOpts struct {
	ln        net.Listener // default: 127.0.0.1:0
	tls       *tls.Config
	users     map[string]string // AUTH PLAIN/LOGIN accounts
	plainAuth bool              // offer AUTH without TLS
	dsn       bool
	utf8      bool
	maxSize   int64
	// mail may refuse a sender, or close the connection (conn is the one
	// under any TLS) to play a peer that goes away.
	mail     func(conn net.Conn, from string) error
	rcpt     func(to string) error
	data     func(rcpts []string) error
	dataWait time.Duration // delay before answering DATA
	discard  bool          // count messages, keep no bodies (benchmarks)
	domain   string        // name in the greeting; default sink.test
	// readTimeout is the server's idle limit (it then sends 421 and
	// closes); default 10s.
	readTimeout time.Duration
}

// received is one message the sink accepted.
type received struct {
	from     string
	rcpts    []string
	body     []byte
	tls      bool
	user     string
	mailOpts smtp.MailOptions
	rcptOpts []smtp.RcptOptions
}

type sink struct {
	opts sinkOpts
	addr string
	srv  *smtp.Server

	mu       sync.Mutex
	msgs     []received
	accepted int // TCP connections accepted
	open     int // currently open
	maxOpen  int
	raw      bytes.Buffer // every byte clients sent, over all connections
	plain    bytes.Buffer // both directions as the server reads and writes them (after TLS)
	auths    int          // successful AUTH exchanges
}

func startSink(t testing.TB, o sinkOpts) *sink {
	t.Helper()
	if o.ln == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		o.ln = ln
	}
	s := &sink{opts: o, addr: o.ln.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{s: s, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	if o.domain != "" {
		srv.Domain = o.domain
	}
	srv.TLSConfig = o.tls
	srv.AllowInsecureAuth = o.plainAuth
	srv.EnableDSN = o.dsn
	srv.EnableSMTPUTF8 = o.utf8
	srv.MaxMessageBytes = o.maxSize
	srv.ReadTimeout = 10 * time.Second
	if o.readTimeout > 0 {
		srv.ReadTimeout = o.readTimeout
	}
	if !o.discard { // benchmarks keep no record
		srv.Debug = plainWriter{s}
	}
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}
	s.srv = srv
	go srv.Serve(&countingListener{Listener: o.ln, s: s}) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return s
}

type plainWriter struct{ s *sink }

func (w plainWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.plain.Write(p)
}

// plainText is the sessions' dialogue in clear text, TLS or not.
func (s *sink) plainText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plain.String()
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (s *sink) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *sink) stats() (accepted, open, maxOpen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, s.open, s.maxOpen
}

func (s *sink) authCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *sink) rawText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// waitOpen waits until the sink has n open connections.
func (s *sink) waitOpen(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, open, _ := s.stats(); open == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, open, _ := s.stats()
	t.Fatalf("sink has %d open connections, want %d", open, n)
}

type countingListener struct {
	net.Listener
	s *sink
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.accepted++
	l.s.open++
	l.s.maxOpen = max(l.s.maxOpen, l.s.open)
	l.s.mu.Unlock()
	return &recordingConn{Conn: c, s: l.s}, nil
}

type recordingConn struct {
	net.Conn
	s    *sink
	once sync.Once
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.mu.Lock()
	c.s.raw.Write(p[:n])
	c.s.mu.Unlock()
	return n, err
}

func (c *recordingConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.open--
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

type sinkSession struct {
	s    *sink
	conn *smtp.Conn
	user string
	cur  received
}

func (ss *sinkSession) AuthMechanisms() []string {
	if ss.s.opts.users == nil {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := ss.s.opts.users[user]; ok && want == pass {
			ss.user = user
			ss.s.mu.Lock()
			ss.s.auths++
			ss.s.mu.Unlock()
			return nil
		}
		return smtp.ErrAuthFailed
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return newLoginServer(check), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *sinkSession) Reset()        { ss.cur = received{} }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.opts.users != nil && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	if ss.s.opts.mail != nil {
		if err := ss.s.opts.mail(ss.conn.Conn(), from); err != nil {
			return err
		}
	}
	ss.cur = received{from: from, user: ss.user}
	if opts != nil {
		ss.cur.mailOpts = *opts
	}
	return nil
}

func (ss *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if ss.s.opts.rcpt != nil {
		if err := ss.s.opts.rcpt(to); err != nil {
			return err
		}
	}
	ss.cur.rcpts = append(ss.cur.rcpts, to)
	var o smtp.RcptOptions
	if opts != nil {
		o = *opts
	}
	ss.cur.rcptOpts = append(ss.cur.rcptOpts, o)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.opts.dataWait > 0 {
		time.Sleep(ss.s.opts.dataWait)
	}
	if ss.s.opts.data != nil {
		if err := ss.s.opts.data(ss.cur.rcpts); err != nil {
			return err
		}
	}
	if !ss.s.opts.discard {
		ss.cur.body = body
	}
	_, ss.cur.tls = ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.cur)
	ss.s.mu.Unlock()
	return nil
}

// loginServer is the server side of AUTH LOGIN (go-sasl has only the client).
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func newLoginServer(check func(user, pass string) error) *loginServer {
	return &loginServer{check: check}
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(resp) > 0 {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// selfSigned returns a server TLS config for 127.0.0.1 / names, and a pool
// that trusts it.
func selfSigned(t testing.TB, names ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     append([]string{"sink.test"}, names...),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// listenSamePort listens on the same free port on each loopback IP, as MX
// hosts on port 25 would be.
func listenSamePort(t *testing.T, ips ...string) []net.Listener {
	t.Helper()
	for range 20 {
		first, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(first.Addr().String())
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			return lns
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	t.Fatal("no common free port on the loopback addresses")
	return nil
}

type netListener = net.Listener

func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func x509EmptyPool() *x509.CertPool { return x509.NewCertPool() }
