package hold_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
)

// The gateway opens the DB, enqueues in OnRelease inside the transition's
// transaction, and hands tokens' hashes to the store while the raw tokens
// go into notice mails.
func Example() {
	dir, _ := os.MkdirTemp("", "hold-example")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "sendguard.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	outbound := []byte("spool_outbound")
	store, err := hold.New(db, hold.Options{
		OnRelease: func(tx *bbolt.Tx, rec *hold.Record) error {
			b, err := tx.CreateBucketIfNotExists(outbound)
			if err != nil {
				return err
			}
			return b.Put([]byte(rec.ID), []byte(rec.Mode))
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	err = store.Create(ctx, &hold.Record{
		ID: "4Xk2", Kind: hold.KindSender, Sender: "taro@example.com", Subject: "見積書",
		Recipients: hold.RecipientSummary{Total: 12, External: 12, Domains: []string{"partner.co.jp"}},
		Decision:   hold.Decision{Actions: []string{"hold_sender"}, Rules: []string{"mass-exposure"}},
		Deadline:   time.Now().Add(24 * time.Hour),
	}, hold.System, "policy mass-exposure")
	if err != nil {
		panic(err)
	}
	raw := "token-from-crypto-package" // 256 random bits in real use
	hash := sha256.Sum256([]byte(raw))
	if err := store.AddToken(ctx, hold.Token{Hash: hash, MessageID: "4Xk2", Role: hold.RoleSender, Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		panic(err)
	}

	sender := hold.Actor{Name: "taro@example.com", Role: "sender", IP: "192.0.2.10"}
	rec, err := store.TransitionWithToken(ctx, hash, hold.RoleSender, hold.StateReleased, sender, "convert to Bcc", hold.WithMode(hold.ModeBcc))
	fmt.Println(rec.State, rec.Mode, err)
	_, err = store.TransitionWithToken(ctx, hash, hold.RoleSender, hold.StateReleased, sender, "")
	fmt.Println(err)
	n, err := store.Verify(ctx)
	fmt.Println(n, err)
	// Output:
	// released bcc <nil>
	// hold: token already used
	// 2 <nil>
}
