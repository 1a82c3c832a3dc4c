package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Third-party parsers that cannot be interrupted (the PDF reader) run in a
// child process: this same binary, re-executed in a hidden worker mode
// (ServeWorker), under a budget that ends the work for certain:
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
// Cost, measured on 2 cores (BenchmarkWorkerStart, BenchmarkPDF*): a worker
// start is about 9 ms of this package's test binary (more for the full
// gateway binary, whose package initialisation is heavier); a one-page
// Japanese PDF takes 0.15 ms in process and 8.6 ms isolated, a 20,000-line
// page 34 ms and 62 ms. A pool of long-lived workers would save the start
// but share a CPU limit and a heap across messages; per-file start is the
// price of a budget that means what it says.

// Environment variables of the hidden worker mode.
const (
	workerEnv = "SENDGUARD_EXTRACT_WORKER"
	budgetEnv = "SENDGUARD_EXTRACT_BUDGET"
)

// workerReady records that this program's main (or TestMain) calls
// ServeWorker, so re-executing the binary reaches the worker. It describes
// the binary, is set once at start and never cleared.
var workerReady atomic.Bool

// ServeWorker must be the first call of main (and of TestMain in test
// binaries whose tests extract PDFs). In a process started as an extraction
// worker it serves the one request on stdin and exits; in any other process
// it returns at once, recording that isolated extraction is available.
// Without it, PDFs are reported unscannable: the parser is never run
// unbounded in the gateway's own process.
func ServeWorker() {
	mode, ok := os.LookupEnv(workerEnv)
	if !ok {
		workerReady.Store(true)
		return
	}
	os.Exit(serveWorker(mode, os.Getenv(budgetEnv), os.Stdin, os.Stdout))
}

// Sandbox caps the isolated extractions running at once across every walk
// that shares it. It is safe for concurrent use.
type Sandbox struct {
	slots chan struct{}
	// running counts live children, for tests and metrics.
	running atomic.Int32
	// lastPID is the last child started, for tests: a child that dies at
	// once (a memory budget) can be gone before anyone sees it in /proc.
	lastPID atomic.Int64
}

// NewSandbox returns a Sandbox running at most maxConcurrent workers
// (runtime.NumCPU() when maxConcurrent <= 0).
func NewSandbox(maxConcurrent int) *Sandbox {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Sandbox{slots: make(chan struct{}, maxConcurrent)}
}

// Running returns the number of workers alive now.
func (s *Sandbox) Running() int { return int(s.running.Load()) }

var (
	sharedOnce    sync.Once
	sharedSandbox *Sandbox
)

// defaultSandbox is the process-wide Sandbox of Limits that name none: the
// cap is about the machine's cores, so walks share it.
func defaultSandbox() *Sandbox {
	sharedOnce.Do(func() { sharedSandbox = NewSandbox(0) })
	return sharedSandbox
}

// budget is what one worker may use; it travels to the child in budgetEnv.
type budget struct {
	wall     time.Duration
	cpu      time.Duration
	memory   int64 // address space on top of the worker's start-up size
	maxIn    int64 // largest input accepted
	maxText  int64 // text cap (Limits.MaxPartText)
	ratio    int64 // largest inflated/compressed ratio of one stream
	inflated int64 // bytes the streams may inflate to in total
}

func (b budget) encode() string {
	return fmt.Sprintf("cpu=%d,mem=%d,in=%d,text=%d,ratio=%d,inflated=%d",
		cpuSeconds(b.cpu), b.memory, b.maxIn, b.maxText, b.ratio, b.inflated)
}

// cpuSeconds rounds a CPU budget up to whole seconds (RLIMIT_CPU's unit).
func cpuSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

func parseBudget(s string) (budget, error) {
	var b budget
	fields := map[string]*int64{"mem": &b.memory, "in": &b.maxIn, "text": &b.maxText,
		"ratio": &b.ratio, "inflated": &b.inflated}
	var cpu int64
	fields["cpu"] = &cpu
	seen := 0
	for kv := range strings.SplitSeq(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		p, ok := fields[k]
		if !ok {
			return b, fmt.Errorf("budget: unknown field %q", k)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return b, fmt.Errorf("budget: bad %s", k)
		}
		*p = n
		seen++
	}
	if seen != len(fields) {
		return b, errors.New("budget: missing fields")
	}
	b.cpu = time.Duration(cpu) * time.Second
	return b, nil
}

// Worker answers: a fixed header, then the payload.
//
//	"SGX1" status(1) truncated(1) inflated(8, big-endian) payload
const (
	answerMagic  = "SGX1"
	answerHeader = len(answerMagic) + 2 + 8

	statusText      byte = 'T' // payload: UTF-8 text
	statusEncrypted byte = 'P' // password protected
	statusLimit     byte = 'L' // payload: reason a limit stopped the read
	statusError     byte = 'E' // payload: the parser's error
)

// Exit codes a worker uses for the stops it can see itself.
const (
	exitBadRequest = 3
	exitCPU        = 4
)

type answer struct {
	status    byte
	truncated bool
	inflated  int64
	payload   []byte
}

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
func (s *Sandbox) run(ctx context.Context, mode string, in io.Reader, b budget) (*answer, error) {
	if !workerReady.Load() {
		return nil, &stopError{reasonNoWorker}
	}
	exe, err := ownExecutable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
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

	wctx, cancel := context.WithTimeout(ctx, b.wall)
	defer cancel()
	out := &capBuffer{max: int(b.maxText) + answerHeader + 1024}
	errOut := &capBuffer{max: 4 << 10, quiet: true}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{"sendguard-extract-" + mode},
		Env:         []string{workerEnv + "=" + mode, budgetEnv + "=" + b.encode(), "GOMAXPROCS=1", "GOTRACEBACK=single"},
		Dir:         "/",
		Stdin:       in,
		Stdout:      out,
		Stderr:      errOut,
		SysProcAttr: workerProcAttr(),
		// pipes left open by a stray grandchild cannot hold Wait
		WaitDelay: time.Second,
	}
	// PR_SET_PDEATHSIG fires when the forking thread exits: keep it until
	// the child is reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start extraction worker: %w", err)
	}
	s.running.Add(1)
	defer s.running.Add(-1)
	s.lastPID.Store(int64(cmd.Process.Pid))
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	killed := false
	select {
	case werr = <-waited:
	case <-wctx.Done():
		// the group, not just the child: nothing it started survives
		killGroup(cmd.Process.Pid)
		killed = true
		werr = <-waited
	}
	st := cmd.ProcessState
	switch {
	case killed && errors.Is(ctx.Err(), context.Canceled):
		return nil, &stopError{reasonCancelled}
	case killed:
		return nil, &stopError{reasonTime}
	case st == nil:
		return nil, fmt.Errorf("wait for extraction worker: %w", werr)
	case st.ExitCode() == exitCPU || cpuKilled(st) || st.UserTime()+st.SystemTime() >= time.Duration(cpuSeconds(b.cpu))*time.Second && !st.Success():
		return nil, &stopError{reasonCPU}
	case st.ExitCode() == exitBadRequest:
		return nil, &stopError{reasonSetup}
	case !st.Success() && bytes.Contains(errOut.Bytes(), []byte("out of memory")):
		return nil, &stopError{reasonMemory}
	case !st.Success() || werr != nil:
		return nil, &stopError{reasonCrash}
	}
	a, err := parseAnswer(out.Bytes(), out.over)
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

func parseAnswer(b []byte, over bool) (*answer, error) {
	if over || len(b) < answerHeader || string(b[:len(answerMagic)]) != answerMagic {
		return nil, errors.New("malformed worker answer")
	}
	h := b[len(answerMagic):]
	a := &answer{status: h[0], truncated: h[1] == 1, payload: b[answerHeader:]}
	for _, c := range h[2:10] {
		a.inflated = a.inflated<<8 | int64(c)
	}
	switch a.status {
	case statusText, statusEncrypted, statusLimit, statusError:
	default:
		return nil, errors.New("malformed worker answer")
	}
	if a.inflated < 0 {
		return nil, errors.New("malformed worker answer")
	}
	return a, nil
}

func writeAnswer(w io.Writer, a answer) error {
	h := make([]byte, 0, answerHeader)
	h = append(h, answerMagic...)
	tr := byte(0)
	if a.truncated {
		tr = 1
	}
	h = append(h, a.status, tr)
	for i := 7; i >= 0; i-- {
		h = append(h, byte(a.inflated>>(8*i)))
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(a.payload)
	return err
}

// capBuffer keeps at most max bytes. Beyond that it fails the write (the
// worker then dies on a broken pipe), or, when quiet, drops the rest.
type capBuffer struct {
	bytes.Buffer
	max   int
	over  bool
	quiet bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.over = true
		c.Buffer.Write(p[:max(0, room)])
		if c.quiet {
			return len(p), nil
		}
		return 0, errors.New("worker output over its cap")
	}
	return c.Buffer.Write(p)
}
