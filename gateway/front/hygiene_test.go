package front

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// The trusted MTA connects from 127.0.0.1 (smtp.trusted_networks is
// 127.0.0.1/32); outsiders from 127.0.0.2 and up, which Linux routes over
// loopback too.

const hygienePassword = "correct horse battery"

type hygieneEnv struct {
	t    *testing.T
	addr string
	srv  *Server
}

func startHygiene(t *testing.T, mutate func(*config.Config)) *hygieneEnv {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "gw.test"
	cfg.SMTP.TrustedNetworks = []string{"127.0.0.1/32"}
	cfg.SMTP.TLS = writeTestCert(t)
	h, err := bcrypt.GenerateFromPassword([]byte(hygienePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SMTP.Users = []config.User{{Name: "mta", PasswordHash: string(h)}}
	if mutate != nil {
		mutate(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	store, err := spool.Open(cfg.DataDir, log)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(store, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	metrics := gateway.NewMetrics(prometheus.NewRegistry(), nil)
	srv, err := NewServer(Options{Config: &cfg, Log: log, Intake: testIntake(t, &cfg, store, q, metrics), Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		store.Close()
	})
	return &hygieneEnv{t: t, addr: ln.Addr().String(), srv: srv}
}

// writeTestCert writes a self-signed certificate for 127.0.0.1.
func writeTestCert(t *testing.T) config.TLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gw.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"gw.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := config.TLS{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	os.WriteFile(c.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(c.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return c
}

// client is a raw SMTP client from a chosen loopback address.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (e *hygieneEnv) dial(from string) *client {
	e.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	e.t.Cleanup(func() { c.Close() })
	return &client{t: e.t, c: c, r: bufio.NewReader(c)}
}

// reply reads one reply and returns its last line ("EOF" when closed).
func (c *client) reply() string {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			if line != "" {
				return strings.TrimRight(line, "\r\n")
			}
			return "EOF"
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func (c *client) cmd(line string) string {
	c.c.Write([]byte(line + "\r\n"))
	return c.reply()
}

// startTLS upgrades the connection after EHLO.
func (c *client) startTLS() {
	c.t.Helper()
	if got := c.cmd("STARTTLS"); !strings.HasPrefix(got, "220") {
		c.t.Fatalf("STARTTLS: %q", got)
	}
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

// closed reports whether the server has closed the connection within d.
func (c *client) closed(d time.Duration) bool {
	c.c.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := c.r.ReadString('\n'); err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				return false
			}
			return true
		}
	}
}

func asNetErr(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func TestOutsidersCannotStarveTrustedMTA(t *testing.T) {
	e := startHygiene(t, func(c *config.Config) {
		c.SMTP.MaxConnections, c.SMTP.MaxConnectionsPerIP = 4, 4
		c.SMTP.Untrusted.MaxConnections, c.SMTP.Untrusted.MaxConnectionsPerIP = 3, 2
	})
	// Outsiders from three addresses try to take every slot; they keep
	// their sessions alive with refused MAILs and NOOPs.
	var held int
	for i := range 12 {
		c := e.dial("127.0.0." + string(rune('2'+i%3)))
		if got := c.reply(); strings.HasPrefix(got, "220") {
			held++
			c.cmd("EHLO outsider.test")
			c.cmd("MAIL FROM:<x@evil.test>")
			c.cmd("NOOP")
			continue
		} else if !strings.HasPrefix(got, "421 4.7.0") {
			t.Fatalf("outsider %d: greeting %q, want 220 or 421 4.7.0", i, got)
		}
	}
	if held != 3 {
		t.Fatalf("outsiders hold %d connections, want the cap of 3", held)
	}
	// The trusted MTA still gets all of its own slots and relays.
	for i := range 4 {
		c := e.dial("127.0.0.1")
		if got := c.reply(); !strings.HasPrefix(got, "220") {
			t.Fatalf("trusted connection %d: greeting %q", i, got)
		}
		c.cmd("EHLO mta.example.com")
		for _, step := range [][2]string{
			{"MAIL FROM:<a@example.com>", "250"}, {"RCPT TO:<b@partner.test>", "250"}, {"DATA", "354"},
			{"From: <a@example.com>\r\nTo: <b@partner.test>\r\nSubject: hi\r\n\r\nhello\r\n.", "250"},
		} {
			if got := c.cmd(step[0]); !strings.HasPrefix(got, step[1]) {
				t.Fatalf("trusted connection %d: %q -> %q", i, step[0], got)
			}
		}
	}
}

func TestOutsiderDisconnectedAfterRefusedCommands(t *testing.T) {
	e := startHygiene(t, func(c *config.Config) { c.SMTP.Untrusted.MaxRefused = 3 })
	c := e.dial("127.0.0.2")
	c.reply()
	c.cmd("EHLO outsider.test")
	// RCPT before MAIL is refused by the protocol engine; MAIL and AUTH
	// refusals are the ones that count.
	for i := range 2 {
		if got := c.cmd("MAIL FROM:<x@evil.test>"); !strings.HasPrefix(got, "554 5.7.1") {
			t.Fatalf("MAIL %d: %q", i, got)
		}
	}
	if got := c.cmd("MAIL FROM:<x@evil.test>"); !strings.HasPrefix(got, "421 4.7.0") {
		t.Fatalf("third refused command: %q, want 421 4.7.0", got)
	}
	if !c.closed(2 * time.Second) {
		t.Fatal("connection still open after 421")
	}
	// The trusted MTA is never counted: refusals are part of its job.
	m := e.dial("127.0.0.1")
	m.reply()
	m.cmd("EHLO mta.example.com")
	for i := range 6 {
		if got := m.cmd("MAIL FROM:<bad address@example.com>"); !strings.HasPrefix(got, "5") {
			t.Fatalf("trusted refused command %d: %q", i, got)
		}
	}
}

func TestOutsiderCommandsBounded(t *testing.T) {
	e := startHygiene(t, func(c *config.Config) { c.SMTP.Untrusted.MaxCommands = 10 })
	c := e.dial("127.0.0.2")
	c.reply()
	c.cmd("EHLO outsider.test")
	c.startTLS()
	var last string
	for i := 0; i < 50; i++ {
		if last = c.cmd("NOOP"); !strings.HasPrefix(last, "250") {
			break
		}
	}
	if !strings.HasPrefix(last, "421 4.7.0") {
		t.Fatalf("endless NOOPs over TLS: last reply %q, want 421 4.7.0", last)
	}
	if !c.closed(2 * time.Second) {
		t.Fatal("connection still open")
	}
}

func TestOutsiderAuthTimeout(t *testing.T) {
	e := startHygiene(t, func(c *config.Config) { c.SMTP.Untrusted.AuthTimeout = time.Second })
	c := e.dial("127.0.0.2")
	c.reply()
	start := time.Now()
	c.cmd("EHLO outsider.test")
	// Keeping busy does not help: the deadline is absolute.
	for time.Since(start) < 3*time.Second {
		if got := c.cmd("RSET"); !strings.HasPrefix(got, "250") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if el := time.Since(start); !c.closed(time.Second) || el > 2500*time.Millisecond {
		t.Fatalf("outsider still connected %v after connecting (auth_timeout 1s)", el)
	}
	// An authenticated client is free of the deadline.
	a := e.dial("127.0.0.3")
	a.reply()
	a.cmd("EHLO mta.partner.test")
	a.startTLS()
	a.cmd("EHLO mta.partner.test")
	if got := a.cmd("AUTH PLAIN " + plain("mta", hygienePassword)); !strings.HasPrefix(got, "235") {
		t.Fatalf("AUTH: %q", got)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := a.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "250") {
		t.Fatalf("authenticated client after the outsiders' deadline: %q", got)
	}
}

func TestAuthBackoff(t *testing.T) {
	e := startHygiene(t, func(c *config.Config) {
		c.SMTP.AuthBackoff.PerIPFree, c.SMTP.AuthBackoff.PerAccountFree = 4, 2
		c.SMTP.AuthBackoff.Base, c.SMTP.AuthBackoff.Max = time.Minute, time.Hour
		c.SMTP.Untrusted.MaxRefused = 100
	})
	auth := func(from, user, pass string) string {
		c := e.dial(from)
		defer c.c.Close()
		c.reply()
		c.cmd("EHLO client.test")
		c.startTLS()
		c.cmd("EHLO client.test")
		return c.cmd("AUTH PLAIN " + plain(user, pass))
	}
	// Two free failures for mta from this network, then a back-off in
	// which even the right password is not checked.
	for i := range 2 {
		if got := auth("127.0.0.2", "mta", "guess"); !strings.HasPrefix(got, "535 5.7.8") {
			t.Fatalf("failure %d: %q", i, got)
		}
	}
	if got := auth("127.0.0.3", "mta", hygienePassword); !strings.HasPrefix(got, "454 4.7.0") {
		t.Fatalf("same network during the back-off: %q, want 454 4.7.0", got)
	}
	// The account from another network is not slowed down: failures
	// elsewhere cannot lock the MTA out of its own account.
	if got := auth("127.0.1.5", "mta", hygienePassword); !strings.HasPrefix(got, "235") {
		t.Fatalf("account from another network: %q, want 235", got)
	}
	// Per IP: unknown users count too, and once the IP's free failures are
	// used every account is slowed down from it.
	for i := range 2 {
		if got := auth("127.0.0.2", "nobody"+string(rune('a'+i)), "guess"); !strings.HasPrefix(got, "535") {
			t.Fatalf("unknown user %d: %q", i, got)
		}
	}
	if got := auth("127.0.0.2", "other", "guess"); !strings.HasPrefix(got, "454 4.7.0") {
		t.Fatalf("IP over its free failures: %q, want 454", got)
	}
	if got := auth("127.0.2.9", "other", "guess"); !strings.HasPrefix(got, "535") {
		t.Fatalf("another IP: %q, want 535", got)
	}
}

func TestAuthPlaceholderHasRealCost(t *testing.T) {
	// Real hashes at cost 5; the placeholder for unknown users must match,
	// or AUTH timing tells existing users from unknown ones.
	e := startHygiene(t, func(c *config.Config) {
		h, _ := bcrypt.GenerateFromPassword([]byte(hygienePassword), 5)
		c.SMTP.Users = []config.User{{Name: "mta", PasswordHash: string(h)}, {Name: "mta2", PasswordHash: string(h)}}
	})
	if c, err := bcrypt.Cost(e.srv.dummyHash); err != nil || c != 5 {
		t.Fatalf("placeholder cost %d (%v), want 5 like the configured hashes", c, err)
	}
	h, cost, mixed, err := placeholderHash(map[string][]byte{
		"a": mustHash(t, 4), "b": mustHash(t, 6),
	})
	if err != nil || cost != 6 || !mixed {
		t.Fatalf("mixed costs: cost %d mixed %v err %v", cost, mixed, err)
	}
	if c, _ := bcrypt.Cost(h); c != 6 {
		t.Fatalf("placeholder cost %d, want the highest (6)", c)
	}
}

func mustHash(t *testing.T, cost int) []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("x"), cost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
