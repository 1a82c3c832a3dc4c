package extract

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as its own PDF extraction worker, as
// cmd/sendguard's main does.
func TestMain(m *testing.M) {
	ServeWorker()
	if prog, ok := os.LookupEnv(deathParentEnv); ok {
		os.Exit(deathParent(prog))
	}
	code := m.Run()
	removeWorkerProgram()
	os.Exit(code)
}
