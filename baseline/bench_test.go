package baseline

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// BenchmarkAccept compares a message's acceptance commit (a bbolt update
// with a spool-record-sized and a stored-report-sized value, fsynced) with
// the same plus the baseline's Lookup and Observe and a share of the
// periodic Flush (one per 256 messages, 1,000 senders). The two kinds
// alternate message by message in one loop, so the disk's noise hits both
// alike; it reports each kind's mean and their ratio.
func BenchmarkAccept(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "a.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	store := &Bolt{DB: db}
	if err := store.Init(); err != nil {
		b.Fatal(err)
	}
	tr := NewTracker(store, tokyo, 0, nil)
	ctx := context.Background()
	rec, rep := make([]byte, 1200), make([]byte, 400)
	rand.Read(rec)
	rand.Read(rep)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	var took [2]time.Duration
	var n [2]int
	b.ResetTimer()
	for i := range b.N {
		with := i%2 == 1
		sender := fmt.Sprintf("user%d@example.com", i%1000)
		at := t0.Add(time.Duration(i) * time.Second)
		start := time.Now()
		if with {
			tr.Lookup(ctx, sender, at)
		}
		err := db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("accept"))
			if err != nil {
				return err
			}
			k := fmt.Appendf(nil, "%016d", i)
			if err := bk.Put(append(k, 'r'), rec); err != nil {
				return err
			}
			return bk.Put(append(k, 'p'), rep)
		})
		if err != nil {
			b.Fatal(err)
		}
		if with {
			tr.Observe(ctx, sender, Observation{At: at, External: 2, AttachmentBytes: 1 << 16, ExternalAttachment: true})
			if i%512 == 511 { // every 256 messages with baselines
				if err := tr.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		k := 0
		if with {
			k = 1
		}
		took[k] += time.Since(start)
		n[k]++
	}
	if n[0] > 0 && n[1] > 0 {
		without, with := float64(took[0])/float64(n[0]), float64(took[1])/float64(n[1])
		b.ReportMetric(without, "ns/accept-without")
		b.ReportMetric(with, "ns/accept-with-baseline")
		b.ReportMetric(with/without, "ratio")
	}
}

// BenchmarkLookupObserve is the in-memory cost alone.
func BenchmarkLookupObserve(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "a.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tr := NewTracker(&Bolt{DB: db}, tokyo, 0, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	for i := range b.N {
		sender := fmt.Sprintf("user%d@example.com", i%1000)
		at := t0.Add(time.Duration(i) * time.Second)
		tr.Lookup(ctx, sender, at)
		tr.Observe(ctx, sender, Observation{At: at, External: 2})
	}
}
