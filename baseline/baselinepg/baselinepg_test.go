package baselinepg_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/baseline/baselinepg"
	"github.com/sendguard/sendguard/baseline/baselinetest"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/queue/pgstore/pgstoretest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two pools on one database stand for two nodes.
func TestPostgres(t *testing.T) {
	baselinetest.Run(t, func(t *testing.T) (baseline.Store, baseline.Store) {
		pools := pgstoretest.TwoNodes(t)
		return baselinepg.New(pools[0]), baselinepg.New(pools[1])
	})
}

// With the database gone a read fails within its bound, and the next ones
// at once, so the acceptance path does not wait on an outage.
func TestLoadDuringOutage(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	pool, err := pgstore.Connect(ctx, srv.NewDB(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := baselinepg.New(pool)
	if _, ok, err := s.Load(ctx, "a@example.com"); ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, _, err := s.Load(ctx, "a@example.com"); err == nil {
		t.Fatal("read with the database stopped")
	}
	first := time.Since(t0)
	t0 = time.Now()
	for range 100 {
		if _, _, err := s.Load(ctx, "b@example.com"); !errors.Is(err, baselinepg.ErrUnavailable) {
			t.Fatalf("read during the outage: %v", err)
		}
	}
	if first > time.Second || time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("first read took %v, 100 more %v", first, time.Since(t0))
	}
	if err := srv.Restart(); err != nil { // its test database is dropped at cleanup
		t.Fatal(err)
	}
}
