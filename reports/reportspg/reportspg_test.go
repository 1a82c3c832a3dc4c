package reportspg_test

import (
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore/pgstoretest"
	"github.com/sendguard/sendguard/reports/reportspg"
	"github.com/sendguard/sendguard/reports/reportstest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two pools on one database stand for two nodes.
func TestPostgres(t *testing.T) {
	reportstest.Run(t, func(t *testing.T) (reportstest.Store, reportstest.Store) {
		pools := pgstoretest.TwoNodes(t)
		return reportspg.New(pools[0]), reportspg.New(pools[1])
	})
}
