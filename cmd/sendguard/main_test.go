package main

import (
	"os"
	"testing"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/rules/extract"
)

// TestMain lets the test binary serve as its own PDF extraction worker, as
// main does, or as a next hop in a process of its own (runSinkMode), and
// stops the private PostgreSQL the cluster tests start and removes the
// binaries the tests built.
func TestMain(m *testing.M) {
	if os.Getenv(sinkModeEnv) != "" {
		runSinkMode()
	}
	extract.ServeWorker()
	code := pgtest.Main(m)
	removeBinDir()
	os.Exit(code)
}
