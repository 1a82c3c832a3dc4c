package consolepg_test

import (
	"context"
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/accountstest"
	"github.com/sendguard/sendguard/web/console/consolepg"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two pools on one database stand for two nodes.
func TestPostgresAccounts(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) (console.Accounts, console.Accounts) {
		ctx := context.Background()
		dsn := pgtest.New(t)
		var stores [2]console.Accounts
		for i := range stores {
			pool, err := pgstore.Connect(ctx, dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			if i == 0 {
				if _, err := pgstore.Migrate(ctx, pool); err != nil {
					t.Fatal(err)
				}
			}
			stores[i] = consolepg.New(pool)
		}
		return stores[0], stores[1]
	})
}
