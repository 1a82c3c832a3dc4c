package reportstest_test

import (
	"testing"

	"github.com/sendguard/sendguard/reports/reportstest"
)

func TestBolt(t *testing.T) {
	reportstest.Run(t, func(t *testing.T) (reportstest.Store, reportstest.Store) {
		s := reportstest.LocalBolt(t)
		return s, s
	})
}
