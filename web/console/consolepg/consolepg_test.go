package consolepg_test

import (
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue/pgstore/pgstoretest"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/accountstest"
	"github.com/sendguard/sendguard/web/console/consolepg"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two pools on one database stand for two nodes.
func TestPostgresAccounts(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) (console.Accounts, console.Accounts) {
		pools := pgstoretest.TwoNodes(t)
		return consolepg.New(pools[0]), consolepg.New(pools[1])
	})
}
