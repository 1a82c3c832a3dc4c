package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sendguard/sendguard/rules/extract/worker"
)

// Third-party parsers that cannot be interrupted (the PDF reader) run in a
// child process, under a budget that ends the work for certain. The child
// is the dedicated worker program (cmd/sendguard-extract, package
// rules/extract/worker: the PDF reader and the standard library only) when
// the Sandbox names one (SetProgram, FindProgram: by default next to the
// running binary), else this same binary re-executed in a hidden worker
// mode (ServeWorker). Both serve the same request with the same code, and
// everything below holds identically for either:
//
//   - wall time: the parent kills the child's process group when the
//     budget or the walk's deadline passes, or its context is cancelled;
//   - CPU: RLIMIT_CPU, set by the child on itself before it reads any input
//     (SIGXCPU at the budget, SIGKILL one second later);
//   - memory: RLIMIT_AS at the child's start-up size plus the budget, and a
//     Go soft memory limit below it;
//   - output: at most the part's text cap is read back.
//
// The child gets the file on stdin and answers on stdout; it inherits no
// other descriptor, a clean environment, GOMAXPROCS=1 and "/" as working
// directory, and dies with the parent (Linux: PR_SET_PDEATHSIG). One child
// per file, never reused: no state crosses from one message to the next, and
// the CPU limit is per process. A Sandbox caps how many run at once.
//
// A worker that cannot be started (missing, not executable), crashes or
// answers anything malformed leaves the part unscannable, never passed.
//
// Cost, CPU of parent and child measured on 2 cores (BenchmarkWorkerStart,
// BenchmarkPDF*, SENDGUARD_BENCH_GATEWAY): a worker start is about 1.7 ms
// with the dedicated program and 9-10 ms re-executing the gateway, whose
// package initialisation is heavy; a one-page Japanese PDF takes 0.15 ms in
// process, 1.8 ms and 10 ms isolated. A pool of long-lived workers would
// save the start but share a CPU limit and a heap across messages;
// per-file start is the price of a budget that means what it says.

// workerReady records that this program's main (or TestMain) calls
// ServeWorker, so re-executing the binary reaches the worker. It describes
// the binary, is set once at start and never cleared.
var workerReady atomic.Bool

// ServeWorker must be the first call of main (and of TestMain in test
// binaries whose tests extract PDFs). In a process started as an extraction
// worker it serves the one request on stdin and exits; in any other process
// it returns at once, recording that isolated extraction is available.
// Without it, and without a worker program (SetProgram), PDFs are reported
// unscannable: the parser is never run unbounded in the gateway's own
// process.
func ServeWorker() {
	code, ok := worker.Main()
	if !ok {
		workerReady.Store(true)
		return
	}
	os.Exit(code)
}

// ProgramName is the dedicated worker program (cmd/sendguard-extract),
// looked for next to the running binary.
const ProgramName = "sendguard-extract"

// FindProgram resolves the worker setting (config extraction.worker):
// "self" re-executes this program (""); a path names the worker program,
// which must be an executable file; "" takes ProgramName in the directory
// of the running binary when it is one, else this program.
func FindProgram(setting string) (string, error) {
	switch setting {
	case "self":
		return "", nil
	case "":
		exe, err := os.Executable()
		if err != nil {
			return "", nil
		}
		return programNextTo(exe), nil
	}
	p, err := filepath.Abs(setting)
	if err != nil {
		return "", err
	}
	if err := checkProgram(p); err != nil {
		return "", fmt.Errorf("extraction worker %s: %w", p, err)
	}
	return p, nil
}

// programNextTo is ProgramName in exe's directory if it is usable, else
// "" (this program).
func programNextTo(exe string) string {
	p := filepath.Join(filepath.Dir(exe), ProgramName)
	if checkProgram(p) != nil {
		return ""
	}
	return p
}

// checkProgram accepts a regular file this process may execute.
func checkProgram(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return executable(p)
}

// Sandbox caps the isolated extractions running at once across every walk
// that shares it, and names the program its workers run. It is safe for
// concurrent use.
type Sandbox struct {
	slots chan struct{}
	// program is the worker program; "" re-executes this binary.
	program string
	// running counts live children, for tests and metrics.
	running atomic.Int32
	// lastPID is the last child started, for tests: a child that dies at
	// once (a memory budget) can be gone before anyone sees it in /proc.
	lastPID atomic.Int64

	// spare workers started ahead (spare.go)
	spares   int
	spareMu  sync.Mutex
	idle     []*child
	starting int
}

// NewSandbox returns a Sandbox running at most maxConcurrent workers
// (runtime.NumCPU() when maxConcurrent <= 0), each this program
// re-executed until SetProgram names another.
func NewSandbox(maxConcurrent int) *Sandbox {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Sandbox{slots: make(chan struct{}, maxConcurrent)}
}

// SetProgram makes the workers run path (a FindProgram result; "" is this
// program). Call it before the Sandbox is used. Budgets, environment,
// process group and death signal are the same either way; a program that
// later disappears or crashes makes its parts unscannable. It is started
// by path for each file, so an upgrade that replaces it takes effect at
// once; both sides of the protocol refuse what they do not know, so a
// gateway and worker of mismatched versions fail closed, never open.
func (s *Sandbox) SetProgram(path string) { s.program = path }

// Program is the worker program, "" when this program is re-executed.
func (s *Sandbox) Program() string { return s.program }

// Running returns the number of workers alive now.
func (s *Sandbox) Running() int { return int(s.running.Load()) }

var (
	sharedOnce    sync.Once
	sharedSandbox *Sandbox
)

// defaultSandbox is the process-wide Sandbox of Limits that name none: the
// cap is about the machine's cores, so walks share it. Its workers run the
// worker program next to this binary when there is one.
func defaultSandbox() *Sandbox {
	sharedOnce.Do(func() {
		sharedSandbox = NewSandbox(0)
		p, _ := FindProgram("")
		sharedSandbox.SetProgram(p)
	})
	return sharedSandbox
}

// Worker answer statuses, as this package names them.
const (
	statusText      = worker.StatusText
	statusEncrypted = worker.StatusEncrypted
	statusLimit     = worker.StatusLimit
	statusError     = worker.StatusError
)

// stopError is a worker that did not answer; reason completes the sentence
// "<format> text extraction ...".
type stopError struct{ reason string }

func (e *stopError) Error() string { return e.reason }

const (
	reasonTime      = "exceeded its time budget"
	reasonCPU       = "exceeded its CPU budget"
	reasonMemory    = "exceeded its memory budget"
	reasonCancelled = "was cancelled"
	reasonQueue     = "did not start before the time limit"
	reasonCrash     = "failed (the reader crashed)"
	reasonNoWorker  = "is not available in this program"
	reasonSetup     = "could not set up its worker (resource limits refused?)"
)

// run starts one worker in mode, feeds it in, and returns its answer or a
// *stopError. The child is always reaped before run returns.
func (s *Sandbox) run(ctx context.Context, mode string, in io.Reader, b worker.Budget) (*worker.Answer, error) {
	exe := s.program
	if exe == "" {
		if !workerReady.Load() {
			return nil, &stopError{reasonNoWorker}
		}
		var err error
		if exe, err = ownExecutable(); err != nil {
			return nil, fmt.Errorf("find own executable: %w", err)
		}
	}
	if ctx.Err() != nil {
		return nil, &stopError{reasonQueue}
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &stopError{reasonQueue}
	}
	defer func() { <-s.slots }()

	wctx, cancel := context.WithTimeout(ctx, b.Wall)
	defer cancel()
	out := &capBuffer{max: int(b.MaxText) + worker.AnswerHeader + 1024}
	errOut := &capBuffer{max: 4 << 10, quiet: true}
	c := s.takeSpare(exe, mode)
	if c != nil {
		c.hand(in, b, out, errOut)
	} else {
		var err error
		if c, err = startChild(exe, mode, b.Encode(), workerInput{in}, out, errOut); err != nil {
			return nil, fmt.Errorf("start extraction worker: %w", err)
		}
	}
	s.refill(exe, mode)
	s.running.Add(1)
	defer s.running.Add(-1)
	s.lastPID.Store(int64(c.cmd.Process.Pid))
	var werr error
	killed := false
	select {
	case werr = <-c.waited:
	case <-wctx.Done():
		// the group, not just the child: nothing it started survives
		killGroup(c.cmd.Process.Pid)
		killed = true
		werr = <-c.waited
	}
	st := c.cmd.ProcessState
	switch {
	case killed && errors.Is(ctx.Err(), context.Canceled):
		return nil, &stopError{reasonCancelled}
	case killed:
		return nil, &stopError{reasonTime}
	case st == nil:
		return nil, fmt.Errorf("wait for extraction worker: %w", werr)
	case st.ExitCode() == worker.ExitCPU || cpuKilled(st) || st.UserTime()+st.SystemTime() >= time.Duration(worker.CPUSeconds(b.CPU))*time.Second && !st.Success():
		return nil, &stopError{reasonCPU}
	case st.ExitCode() == worker.ExitBadRequest:
		return nil, &stopError{reasonSetup}
	case !st.Success() && bytes.Contains(errOut.Bytes(), []byte("out of memory")):
		return nil, &stopError{reasonMemory}
	case !st.Success() || werr != nil:
		return nil, &stopError{reasonCrash}
	}
	a, err := worker.ParseAnswer(out.Bytes(), out.over)
	if err != nil {
		return nil, &stopError{reasonCrash}
	}
	return a, nil
}

// ownExecutable is the running binary: /proc/self/exe where there is one,
// so an upgrade that replaces the file on disk cannot put a different
// version on the other side of the protocol.
func ownExecutable() (string, error) {
	const self = "/proc/self/exe"
	if _, err := os.Stat(self); err == nil {
		return self, nil
	}
	return os.Executable()
}

// capBuffer keeps at most max bytes. Beyond that it fails the write (the
// worker then dies on a broken pipe), or, when quiet, drops the rest. The
// buffer is a field, not embedded: an embedded bytes.Buffer's ReadFrom
// would let io.Copy (os/exec's pipe copier) bypass Write and the cap.
type capBuffer struct {
	buf   bytes.Buffer
	max   int
	over  bool
	quiet bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); len(p) > room {
		c.over = true
		c.buf.Write(p[:max(0, room)])
		if c.quiet {
			return len(p), nil
		}
		return 0, errors.New("worker output over its cap")
	}
	return c.buf.Write(p)
}

// Bytes is what was kept.
func (c *capBuffer) Bytes() []byte { return c.buf.Bytes() }
