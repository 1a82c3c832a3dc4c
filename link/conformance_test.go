package link_test

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linktest"
)

// The bbolt store passes the contract; its "two nodes" are two Stores on
// one DB and directory.
func TestConformance(t *testing.T) {
	linktest.Run(t, func(t *testing.T, opts link.Options) (link.Storage, link.Storage) {
		dir := t.TempDir()
		db, err := bbolt.Open(filepath.Join(dir, "sendguard.db"), 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		audit, err := hold.New(db, hold.Options{Now: opts.Now})
		if err != nil {
			t.Fatal(err)
		}
		opts.Audit = audit
		key, err := link.LoadOrCreateKey(filepath.Join(dir, link.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		var s [2]link.Storage
		for i := range s {
			if s[i], err = link.New(db, filepath.Join(dir, "links"), key, opts); err != nil {
				t.Fatal(err)
			}
		}
		return s[0], s[1]
	})
}
