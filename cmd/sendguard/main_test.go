package main

import (
	"os"
	"testing"

	"github.com/sendguard/sendguard/rules/extract"
)

// TestMain lets the test binary serve as its own PDF extraction worker, as
// main does.
func TestMain(m *testing.M) {
	extract.ServeWorker()
	os.Exit(m.Run())
}
