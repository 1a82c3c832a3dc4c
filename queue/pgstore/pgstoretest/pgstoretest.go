// Package pgstoretest gives the PostgreSQL stores' tests their two nodes:
// two connection pools on one freshly migrated private database.
package pgstoretest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
)

// TwoNodes returns two pools on a new database of the test binary's
// private PostgreSQL (see pgtest.Main), with the schema migrated; they are
// closed when the test ends.
func TwoNodes(t testing.TB) [2]*pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.New(t)
	var pools [2]*pgxpool.Pool
	for i := range pools {
		pool, err := pgstore.Connect(ctx, dsn, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		pools[i] = pool
	}
	if _, err := pgstore.Migrate(ctx, pools[0]); err != nil {
		t.Fatal(err)
	}
	return pools
}
