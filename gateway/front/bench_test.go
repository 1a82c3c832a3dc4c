package front

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// BenchmarkAcceptPlain: one loopback client, one small plain mail per
// iteration, MAIL to the 250 after DATA (fsyncs included), no inspector;
// the body committed inline (the default for small mail) or written to its
// own file (spool.Store.NoInline). With TMPDIR on a tmpfs the fsyncs cost
// nothing and it measures the front and intake code path alone.
func BenchmarkAcceptPlain(b *testing.B) {
	b.Run("inline", func(b *testing.B) { benchAcceptPlain(b, false) })
	b.Run("files", func(b *testing.B) { benchAcceptPlain(b, true) })
}

func benchAcceptPlain(b *testing.B, noInline bool) {
	cfg := config.Defaults()
	cfg.DataDir = b.TempDir()
	cfg.Hostname = "gw.test"
	cfg.SMTP.TrustedNetworks = []string{"127.0.0.1/32"}
	log := slog.New(slog.DiscardHandler)
	store, err := spool.Open(cfg.DataDir, log)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	store.NoInline = noInline
	q, err := queue.Open(store, queue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := gateway.NewMetrics(prometheus.NewRegistry(), nil)
	srv, err := NewServer(Options{Config: &cfg, Log: log, Intake: testIntake(b, &cfg, store, q, m), Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer ln.Close()
	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		b.Fatal(err)
	}
	body := "From: <a@example.com>\r\nTo: <b@partner.test>\r\nSubject: x\r\n\r\n" + strings.Repeat("line of text\r\n", 200)
	b.ResetTimer()
	for range b.N {
		if err := c.Mail("a@example.com", nil); err != nil {
			b.Fatal(err)
		}
		if err := c.Rcpt("b@partner.test", nil); err != nil {
			b.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			b.Fatal(err)
		}
		w.Write([]byte(body))
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
