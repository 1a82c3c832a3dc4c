package front

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

type shutdownEnv struct {
	srv    *Server
	addr   string
	served chan error
}

func startShutdownEnv(t *testing.T) *shutdownEnv {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "gw.test"
	cfg.SMTP.TrustedNetworks = []string{"127.0.0.1/32"}
	log := slog.New(slog.DiscardHandler)
	store, err := spool.Open(cfg.DataDir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
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
	e := &shutdownEnv{srv: srv, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { e.served <- srv.Serve(ln) }()
	return e
}

// testIntake is the intake stage a server of cfg hands messages to.
func testIntake(t testing.TB, cfg *config.Config, store *spool.Store, q intake.Acceptor, m *gateway.Metrics) *intake.Stage {
	t.Helper()
	in, err := intake.New(intake.Options{Store: store, Queue: q, Metrics: m, Hostname: Hostname(cfg),
		NormalizeBareLF: cfg.SMTP.BareLF == "normalize", MaxLineLength: cfg.SMTP.MaxLineLength,
		QueueLifetime: cfg.Delivery.QueueLifetime})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// rawConn speaks SMTP line by line.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRawConn(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	rc.expect("220")
	return rc
}

// reply reads one reply and returns its last line ("" once closed).
func (rc *rawConn) reply() string {
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			return ""
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func (rc *rawConn) expect(code string) {
	rc.t.Helper()
	if got := rc.reply(); !strings.HasPrefix(got, code) {
		rc.t.Fatalf("got %q, want %s", got, code)
	}
}

func (rc *rawConn) cmd(line, code string) {
	rc.t.Helper()
	rc.c.Write([]byte(line + "\r\n"))
	rc.expect(code)
}

// Shutdown stops accepting at once, lets a DATA phase in progress finish
// with 250, then closes the connections left (an idle client) and Serve
// returns without error.
func TestShutdownFinishesDataThenCloses(t *testing.T) {
	e := startShutdownEnv(t)
	busy := dialRawConn(t, e.addr)
	busy.cmd("EHLO mta.example.com", "250")
	busy.cmd("MAIL FROM:<a@example.com>", "250")
	busy.cmd("RCPT TO:<b@example.com>", "250")
	busy.cmd("DATA", "354")
	busy.c.Write([]byte("Subject: in flight\r\nMessage-ID: <shutdown@test>\r\n\r\nfirst half\r\n"))
	idle := dialRawConn(t, e.addr)
	idle.cmd("EHLO idle.example.com", "250")
	// Shutdown waits only for DATA phases: it must find this one begun.
	// The client has its 354 before the server's session is told of the
	// DATA phase, so wait for the server, not for a while.
	for deadline := time.Now().Add(10 * time.Second); e.srv.inData.Load() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never began the DATA phase")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- e.srv.Shutdown(ctx) }()

	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", e.addr, 200*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Fatal("still accepting connections after Shutdown began")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a DATA phase was in progress", err)
	default:
	}
	busy.c.Write([]byte("second half\r\n.\r\n"))
	busy.expect("250")
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the DATA phase ended")
	}
	// The idle client is disconnected now, not left open.
	idle.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadAll(idle.r); err != nil {
		t.Fatalf("idle client still connected after Shutdown returned: %v", err)
	}
	select {
	case err := <-e.served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// Shutdown with nothing in flight, and a second Shutdown, neither panic nor
// block (go-smtp's Shutdown and Close both close one channel).
func TestShutdownTwiceIdle(t *testing.T) {
	for range 10 {
		e := startShutdownEnv(t)
		dialRawConn(t, e.addr).cmd("EHLO idle.example.com", "250")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		select {
		case err := <-e.served:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
	}
}
