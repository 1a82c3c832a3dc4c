package reportspg_test

import (
	"context"
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/reports/reportspg"
	"github.com/sendguard/sendguard/reports/reportstest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two pools on one database stand for two nodes.
func TestPostgres(t *testing.T) {
	reportstest.Run(t, func(t *testing.T) (reportstest.Store, reportstest.Store) {
		ctx := context.Background()
		dsn := pgtest.New(t)
		var stores [2]reportstest.Store
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
			stores[i] = reportspg.New(pool)
		}
		return stores[0], stores[1]
	})
}
