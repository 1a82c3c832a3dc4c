package extract

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/testpdf"
)

// The sandbox's tests run against both worker programs: the dedicated one
// (cmd/sendguard-extract, built here once into a temporary directory) and
// this test binary re-executed (ServeWorker in TestMain), the fallback.
type workerKind struct {
	name    string
	program string // "" re-executes this binary
}

func (k workerKind) sandbox(maxConcurrent int) *Sandbox {
	sb := NewSandbox(maxConcurrent)
	sb.SetProgram(k.program)
	return sb
}

var (
	progOnce sync.Once
	progDir  string
	progPath string
	progErr  error
)

// workerProgram builds cmd/sendguard-extract (without -race: it is another
// program, and the race detector's shadow memory would defeat memory
// budgets).
func workerProgram(t testing.TB) string {
	t.Helper()
	progOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if progDir, progErr = os.MkdirTemp("", "sendguard-extract-test"); progErr != nil {
			return
		}
		p := filepath.Join(progDir, ProgramName)
		out, err := exec.Command(goTool, "build", "-o", p, "github.com/sendguard/sendguard/cmd/sendguard-extract").CombinedOutput()
		if err != nil {
			progErr = &buildError{err, out}
			return
		}
		progPath = p
	})
	if progErr != nil {
		t.Fatalf("build %s: %v", ProgramName, progErr)
	}
	return progPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func removeWorkerProgram() {
	if progDir != "" {
		os.RemoveAll(progDir)
	}
}

func workerKinds(t testing.TB) []workerKind {
	return []workerKind{{"program", workerProgram(t)}, {"self", ""}}
}

// forEachWorker runs f once per worker program, as subtests.
func forEachWorker(t *testing.T, f func(t *testing.T, k workerKind)) {
	for _, k := range workerKinds(t) {
		t.Run(k.name, func(t *testing.T) { f(t, k) })
	}
}

// deathParentEnv makes the test binary a gateway stand-in that extracts a
// PDF bomb with long budgets and prints its worker's pid (TestMain).
const deathParentEnv = "SENDGUARD_TEST_DEATH_PARENT"

// deathParent is that stand-in; program "self" re-executes this binary.
func deathParent(program string) int {
	bomb, err := testpdf.Bomb()
	if err != nil {
		return 1
	}
	sb := NewSandbox(1)
	if program != "self" {
		sb.SetProgram(program)
	}
	go func() {
		for sb.lastPID.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Println(sb.lastPID.Load())
	}()
	lim := Limits{MaxRatio: 1 << 20, MaxInflated: 1 << 40, PDFTimeout: time.Minute, PDFCPU: time.Minute, Timeout: 2 * time.Minute, Sandbox: sb}
	Walk(context.Background(), bytes.NewReader(pdfMail("bomb.pdf", bomb)), lim, func(*Part) error { return nil })
	return 0
}
