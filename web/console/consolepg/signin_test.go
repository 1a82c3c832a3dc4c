package consolepg_test

import (
	"testing"

	"github.com/sendguard/sendguard/queue/pgstore/pgstoretest"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/consolepg"
	"github.com/sendguard/sendguard/web/console/signintest"
)

// Two pools on one database stand for two nodes.
func TestPostgresSignIns(t *testing.T) {
	signintest.Run(t, func(t *testing.T) (console.SignInStore, console.SignInStore) {
		pools := pgstoretest.TwoNodes(t)
		return consolepg.NewSignIns(pools[0]), consolepg.NewSignIns(pools[1])
	})
}
