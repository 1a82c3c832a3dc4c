package consolepg_test

import (
	"context"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/consolepg"
	"github.com/sendguard/sendguard/web/console/signintest"
)

// Two pools on one database stand for two nodes.
func TestPostgresSignIns(t *testing.T) {
	signintest.Run(t, func(t *testing.T) (console.SignInStore, console.SignInStore) {
		ctx := context.Background()
		dsn := pgtest.New(t)
		var stores [2]console.SignInStore
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
			stores[i] = consolepg.NewSignIns(pool)
		}
		return stores[0], stores[1]
	})
}
