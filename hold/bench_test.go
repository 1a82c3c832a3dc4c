package hold

import (
	"context"
	"fmt"
	"testing"

	"go.etcd.io/bbolt"
)

// BenchmarkCommit is the baseline: one committed bbolt update writing one
// small key, the floor every state change pays (two fsyncs).
func BenchmarkCommit(b *testing.B) {
	f := newFixture(b, Options{})
	i := 0
	for b.Loop() {
		i++
		err := f.db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(fmt.Sprint(i)), []byte("x"))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateRelease creates a hold and releases it with a token: two
// transactions, with indexes, counters, hook and audit.
func BenchmarkCreateRelease(b *testing.B) {
	q := &releaseQueue{}
	f := newFixture(b, Options{OnRelease: q.hook})
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprint("B", i)
		r := sampleRecord(id, KindSender)
		err := f.db.Update(func(tx *bbolt.Tx) error {
			if err := f.s.CreateTx(tx, r, System, ""); err != nil {
				return err
			}
			return f.s.AddTokenTx(tx, Token{Hash: tokenHash(i), MessageID: id, Role: RoleSender, Expires: f.clock.Now().Add(1e12)})
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.s.TransitionWithToken(ctx, tokenHash(i), RoleSender, StateReleased, alice, ""); err != nil {
			b.Fatal(err)
		}
	}
}
