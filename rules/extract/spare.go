package extract

import (
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sendguard/sendguard/rules/extract/worker"
)

// A worker's start is most of what a small PDF costs, and it is paid while
// the message's sender waits: on a virtual machine where a page fault costs
// tens of microseconds, starting the dedicated program takes about 8 ms of
// CPU, and much more wall time on a busy machine. A Sandbox can keep spare
// workers started ahead (SetSpares): each sets the limits that need no
// budget (no core, no file written, 32 descriptors) and waits on stdin,
// idle, until a file comes; it then reads the budget as the first line of
// stdin (worker.BudgetOnStdin), sets the CPU and memory limits and serves
// that one file exactly as a worker started for it would. A spare is still one process
// per file, never reused; it only starts earlier. One left idle for
// spareIdle is retired (its stdin closed, it exits), so that an upgraded
// worker program is picked up and an idle gateway keeps no children.

// spareIdle is how long a spare waits for a file before it is retired.
var spareIdle = time.Minute

// child is one started worker and its reaping.
type child struct {
	cmd    *exec.Cmd
	waited chan error // cmd.Wait's result

	// a spare's stdin and outputs, given to it with its file
	stdin       *lateReader
	out, errOut *lateWriter
	exe, mode   string
	retire      *time.Timer
}

// startChild starts a worker of mode with the budget spec in its
// environment (worker.BudgetOnStdin for a spare).
func startChild(exe, mode, spec string, stdin io.Reader, stdout, stderr io.Writer) (*child, error) {
	c := &child{waited: make(chan error, 1)}
	c.cmd = &exec.Cmd{
		Path:        exe,
		Args:        []string{"sendguard-extract-" + mode},
		Env:         []string{worker.Env + "=" + mode, worker.BudgetEnv + "=" + spec, "GOMAXPROCS=1", "GOTRACEBACK=single"},
		Dir:         "/",
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		SysProcAttr: workerProcAttr(),
		// pipes left open by a stray grandchild cannot hold Wait
		WaitDelay: time.Second,
	}
	started := make(chan error, 1)
	go func() {
		// PR_SET_PDEATHSIG fires when the forking thread exits: this
		// goroutine keeps the thread until the child is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waited <- c.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// hand gives a spare its file: the budget line, then in.
func (c *child) hand(in io.Reader, b worker.Budget, out, errOut io.Writer) {
	c.out.set(out)
	c.errOut.set(errOut)
	c.stdin.give(io.MultiReader(strings.NewReader(b.Encode()+"\n"), in))
}

// SetSpares makes the Sandbox keep n workers started ahead (0, the
// default, starts each worker for its file). Call it before the Sandbox is
// used.
func (s *Sandbox) SetSpares(n int) { s.spares = max(n, 0) }

// SparesWanted is SetSpares' count.
func (s *Sandbox) SparesWanted() int { return s.spares }

// Spares returns the spare workers waiting now.
func (s *Sandbox) Spares() int {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	return len(s.idle)
}

// takeSpare returns a waiting spare of exe and mode, or nil.
func (s *Sandbox) takeSpare(exe, mode string) *child {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	for i, c := range s.idle {
		if c.exe == exe && c.mode == mode {
			s.idle = append(s.idle[:i], s.idle[i+1:]...)
			c.retire.Stop()
			return c
		}
	}
	return nil
}

// refill starts spares in the background until SetSpares' count wait or
// are starting. A spare that cannot start is not retried until the next
// file.
func (s *Sandbox) refill(exe, mode string) {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	for len(s.idle)+s.starting < s.spares {
		s.starting++
		go s.startSpare(exe, mode)
	}
}

func (s *Sandbox) startSpare(exe, mode string) {
	stdin := &lateReader{ch: make(chan io.Reader, 1)}
	out, errOut := &lateWriter{}, &lateWriter{}
	c, err := startChild(exe, mode, worker.BudgetOnStdin, stdin, out, errOut)
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	s.starting--
	if err != nil {
		return
	}
	c.stdin, c.out, c.errOut, c.exe, c.mode = stdin, out, errOut, exe, mode
	c.retire = time.AfterFunc(spareIdle, func() { s.retireSpare(c) })
	s.idle = append(s.idle, c)
}

// retireSpare ends a spare left idle: its stdin closes, it exits without a
// budget, and is reaped.
func (s *Sandbox) retireSpare(c *child) {
	s.spareMu.Lock()
	for i, x := range s.idle {
		if x == c {
			s.idle = append(s.idle[:i], s.idle[i+1:]...)
			s.spareMu.Unlock()
			c.stdin.give(nil)
			<-c.waited
			return
		}
	}
	s.spareMu.Unlock() // taken meanwhile
}

// lateReader is a spare's stdin: it blocks until the file is given (nil:
// end of input).
type lateReader struct {
	ch chan io.Reader
	r  io.Reader
	eo bool
}

func (l *lateReader) give(r io.Reader) { l.ch <- r }

// given waits for the file and reports whether there is one.
func (l *lateReader) given() bool {
	if l.r == nil && !l.eo {
		l.r = <-l.ch
		l.eo = l.r == nil
	}
	return l.r != nil
}

// Read is called by exec's stdin copier only.
func (l *lateReader) Read(p []byte) (int, error) {
	if !l.given() {
		return 0, io.EOF
	}
	return l.r.Read(p)
}

// WriteTo is how exec's stdin copier reads a spare's input: it grows the
// pipe and lets the file write itself (workerInput).
func (l *lateReader) WriteTo(w io.Writer) (int64, error) {
	if !l.given() {
		return 0, nil
	}
	growPipe(w)
	return io.Copy(w, l.r)
}

// workerInput is the stdin of a worker started for its file, as exec's
// copier reads it: WriteTo grows the pipe first, and an input that writes
// itself (a spilled file, spilled.reader) hands over its chunks as they
// are, without a copy through the copier's 32 KiB buffer.
type workerInput struct{ r io.Reader }

func (in workerInput) Read(p []byte) (int, error) { return in.r.Read(p) }

func (in workerInput) WriteTo(w io.Writer) (int64, error) {
	growPipe(w)
	return io.Copy(w, in.r)
}

// growPipes is unset only by benchmarks, to measure workers' input through
// pipes of the default size in the same run.
var growPipes = true

// lateWriter is a spare's stdout or stderr: what the worker writes before
// it has a file is dropped; after, it goes to that file's buffer.
type lateWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lateWriter) set(w io.Writer) {
	l.mu.Lock()
	l.w = w
	l.mu.Unlock()
}

func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	w := l.w
	l.mu.Unlock()
	if w == nil {
		return len(p), nil
	}
	return w.Write(p)
}
