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
// periodic Flush (one per 256 messages, 1,000 senders). Report the ratio
// of the two in one run.
func BenchmarkAccept(b *testing.B) {
	for _, with := range []bool{false, true} {
		name := "without"
		if with {
			name = "with-baseline"
		}
		b.Run(name, func(b *testing.B) {
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
			b.ResetTimer()
			for i := range b.N {
				sender := fmt.Sprintf("user%d@example.com", i%1000)
				at := t0.Add(time.Duration(i) * time.Second)
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
					if i%256 == 255 {
						if err := tr.Flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
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
