package console_test

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/accountstest"
)

func TestBoltAccounts(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) (console.Accounts, console.Accounts) {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		a, err := console.NewBoltAccounts(db)
		if err != nil {
			t.Fatal(err)
		}
		return a, a // one node owns its file: both handles are the same
	})
}
