package baselinetest_test

import (
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/baseline/baselinetest"
)

func TestBolt(t *testing.T) {
	baselinetest.Run(t, func(t *testing.T) (baseline.Store, baseline.Store) {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "b.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s := &baseline.Bolt{DB: db}
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		return s, &baseline.Bolt{DB: db}
	})
}
