package linkpg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linkpg"
	"github.com/sendguard/sendguard/link/linktest"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/queue/pgstore/pgstoretest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Each "node" has its own pool and audit writer on one database; the
// shared audit chain must still verify after the suite's races.
func TestConformance(t *testing.T) {
	linktest.Run(t, func(t *testing.T, opts link.Options) (link.Storage, link.Storage) {
		ctx := context.Background()
		pools := pgstoretest.TwoNodes(t)
		key, err := link.LoadOrCreateKey(filepath.Join(t.TempDir(), link.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		var s [2]link.Storage
		var audits [2]*pgstore.Store
		for i, pool := range pools {
			if audits[i], err = pgstore.New(ctx, pool, pgstore.Options{Node: []string{"a", "b"}[i]}); err != nil {
				t.Fatal(err)
			}
			if s[i], err = linkpg.New(pool, key, opts, audits[i]); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			if n, err := audits[0].Verify(ctx); err != nil {
				t.Errorf("audit chain: %d events, %v", n, err)
			}
		})
		return s[0], s[1]
	})
}
