package cluster_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// BenchmarkHeld is what one held message of 10 KiB costs a node: the
// acceptance commit (spool body + record + hold, fsynced) and, with
// PostgreSQL, its export (copy, compressed, in one PostgreSQL
// transaction with its audit event, then the local removal). 8 senders
// at once, as SMTP sessions would be.
func BenchmarkHeld(b *testing.B) {
	body := []byte("Subject: held\r\n\r\n" + strings.Repeat("顧客リスト 1234-5678-9012 yamada@example.co.jp\r\n", 200))
	for _, driver := range []string{"bbolt", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			n := openNode(b, sharedPool(b), "a", b.TempDir())
			ctx := context.Background()
			var seq atomic.Int64
			b.SetParallelism(4) // 2 cores here: 8 goroutines
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					seq.Add(1)
					id := spool.NewID()
					rec, h := heldMessage(id)
					bw, err := n.Local.Spool.Create(id)
					if err != nil {
						b.Error(err)
						return
					}
					bw.Write(body)
					if rec.SHA256, err = bw.Commit(); err != nil {
						b.Error(err)
						return
					}
					if err := n.Local.Spool.Accept(rec, func(tx *bbolt.Tx) error {
						return n.Local.Holds.CreateTx(tx, h, hold.System, "bench")
					}); err != nil {
						b.Error(err)
						return
					}
					if driver == "postgres" {
						if err := n.Export(ctx, id); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.ReportMetric(float64(seq.Load())/time.Since(start).Seconds(), "held/s")
		})
	}
}
