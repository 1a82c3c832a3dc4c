package baselinepg_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/baseline/baselinepg"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore"
)

// TestMeasureRowSize (SENDGUARD_MEASURE=1) reports the bytes per sender
// baseline on PostgreSQL, index included.
func TestMeasureRowSize(t *testing.T) {
	if os.Getenv("SENDGUARD_MEASURE") == "" {
		t.Skip("set SENDGUARD_MEASURE=1")
	}
	ctx := context.Background()
	pool, err := pgstore.Connect(ctx, pgtest.New(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := baselinepg.New(pool)
	const n = 20_000
	obs := map[string][]baseline.Observation{}
	for i := range n {
		obs[fmt.Sprintf("firstname.lastname%d@corp.example.com", i)] = []baseline.Observation{{At: time.Now(), External: 1}}
	}
	if _, err := s.Merge(ctx, obs, func(r *baseline.Record, os []baseline.Observation) {
		for _, o := range os {
			r.Observe(o, time.UTC)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE node_baselines`); err != nil {
		t.Fatal(err)
	}
	var total int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('node_baselines')`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d senders: %.0f bytes each with the primary key index", n, float64(total)/n)
}
