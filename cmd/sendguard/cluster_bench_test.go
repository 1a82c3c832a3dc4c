package main

import (
	"fmt"
	"net/smtp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/pgtest"
)

// BenchmarkRelayByDriver relays mail the policy delivers through a
// sendguard on bbolt and one on PostgreSQL (the same binary, sink and
// corpus, in one run): with postgres such mail must not wait on the
// database. 8 SMTP sessions, connections reused, 4 KiB messages.
func BenchmarkRelayByDriver(b *testing.B) {
	for _, driver := range []string{"bbolt", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			sk := startSink(b)
			extra := ""
			if driver == "postgres" {
				extra = clusterYAML(pgtest.New(b), "bench")
			}
			in := newInstance(b, sk.Addr, extra)
			if driver == "postgres" {
				if out, err := in.cli("db", "migrate"); err != nil {
					b.Fatalf("db migrate: %v\n%s", err, out)
				}
			}
			in.start()
			const sessions = 8
			to := []string{"bob@partner.test"}
			var sent atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for s := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := smtp.Dial(in.smtp)
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Quit()
					for i := s; i < b.N; i += sessions {
						msg := testMessage("alice@example.com", to, fmt.Sprintf("r%d", i), fmt.Sprintf("%04096d", i))
						if err := c.Mail("alice@example.com"); err != nil {
							b.Error(err)
							return
						}
						c.Rcpt(to[0])
						w, err := c.Data()
						if err != nil {
							b.Error(err)
							return
						}
						w.Write(msg)
						if err := w.Close(); err != nil {
							b.Error(err)
							return
						}
						sent.Add(1)
					}
				}()
			}
			wg.Wait()
			if _, err := sk.Wait(int(sent.Load()), 2*time.Minute); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sent.Load())/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
