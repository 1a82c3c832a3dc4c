package main

import (
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/rules/extract"
)

// TestMain lets the test binary serve as its own PDF extraction worker, as
// main does, and stops the private PostgreSQL the cluster tests start.
func TestMain(m *testing.M) {
	extract.ServeWorker()
	os.Exit(pgtest.Main(m))
}
