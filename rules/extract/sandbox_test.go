package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/testpdf"
	"github.com/sendguard/sendguard/rules/extract/worker"
)

func pdfWithContent(stream []byte, filter string) []byte { return testpdf.WithContent(stream, filter) }

func pdfBomb(t testing.TB) []byte {
	t.Helper()
	b, err := testpdf.Bomb()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pdfMail(name string, pdf []byte) []byte {
	return buildMail("Content-Type: text/plain\r\n\r\nsee attachment", attachPart(name, "application/pdf", pdf))
}

// workerPIDs lists this process's live extraction workers.
func workerPIDs(t testing.TB) []int {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("sendguard-extract-")) {
			continue
		}
		st, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) > 1 && f[1] == self {
			pid, _ := strconv.Atoi(filepath.Base(d))
			out = append(out, pid)
		}
	}
	return out
}

func requireProc(t testing.TB) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to watch worker processes")
	}
}

func TestPDFBombStoppedByRatio(t *testing.T) {
	mail := pdfMail("bomb.pdf", pdfBomb(t))
	forEachWorker(t, func(t *testing.T, k workerKind) {
		// the guard inflates 100 × 1.6 MB before it refuses: a fraction of
		// a second, but far longer in a worker built with the race detector
		budget := 15 * time.Second
		if raceEnabled {
			budget = 2 * time.Minute
		}
		start := time.Now()
		_, parts := walkBytes(t, mail, Limits{PDFTimeout: budget, Timeout: budget, PDFCPU: budget, Sandbox: k.sandbox(1)})
		p := part(t, parts, "attachment:bomb.pdf", 0)
		if !strings.HasPrefix(p.Unscannable, "PDF bomb: a stream inflates beyond 100:1") {
			t.Fatalf("unscannable = %q", p.Unscannable)
		}
		if d := time.Since(start); d > 8*time.Second && !raceEnabled {
			t.Errorf("took %v to refuse the bomb", d)
		}
	})
}

// With the ratio guard out of the way, the budget alone must end the
// parser: the walk returns within seconds of the budget, no worker is left
// and nothing keeps burning CPU.
func TestPDFBombStoppedByBudget(t *testing.T) {
	requireProc(t)
	mail := pdfMail("bomb.pdf", pdfBomb(t))
	forEachWorker(t, func(t *testing.T, k workerKind) { testPDFBombStoppedByBudget(t, k, mail) })
}

// budgetCases stop the PDF bomb by each budget in turn.
var budgetCases = []struct {
	name   string
	lim    Limits
	reason string
}{
	{"cpu", Limits{PDFTimeout: 20 * time.Second, PDFCPU: time.Second}, "PDF text extraction exceeded its CPU budget"},
	{"wall", Limits{PDFTimeout: 1500 * time.Millisecond, PDFCPU: 20 * time.Second}, "PDF text extraction exceeded its time budget"},
	{"memory", Limits{PDFTimeout: 60 * time.Second, PDFCPU: 60 * time.Second, PDFMemory: 32 << 20}, "PDF text extraction exceeded its memory budget"},
}

func testPDFBombStoppedByBudget(t *testing.T, k workerKind, mail []byte) {
	for _, tc := range budgetCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "memory" && raceEnabled && k.program == "" {
				t.Skip("the race detector's shadow memory defeats a small address-space budget")
			}
			lim := tc.lim
			lim.MaxRatio, lim.MaxInflated, lim.Timeout = 1<<20, 1<<40, 2*time.Minute
			lim.Sandbox = k.sandbox(1)
			var watched atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if pids := workerPIDs(t); len(pids) > 0 {
							watched.Store(int64(pids[0]))
						}
					}
				}
			})
			start := time.Now()
			_, parts := walkBytes(t, mail, lim)
			took := time.Since(start)
			close(stop)
			wg.Wait()
			if watched.Load() == 0 {
				// Died before the watcher's next look (the memory budget
				// can stop it within milliseconds).
				watched.Store(lim.Sandbox.lastPID.Load())
			}
			p := part(t, parts, "attachment:bomb.pdf", 0)
			if p.Unscannable != tc.reason {
				t.Fatalf("unscannable = %q, want %q (after %v)", p.Unscannable, tc.reason, took)
			}
			if limit := min(lim.PDFTimeout, lim.PDFCPU+time.Second) + 10*time.Second; took > limit {
				t.Errorf("walk took %v, budget ends by %v", took, limit)
			}
			if watched.Load() == 0 {
				t.Fatal("no worker process seen: the PDF was not read in a child")
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", watched.Load())); err == nil {
				t.Errorf("worker %d still exists after the walk", watched.Load())
			}
			if pids := workerPIDs(t); len(pids) != 0 || lim.Sandbox.Running() != 0 {
				t.Errorf("workers left: %v (running %d)", pids, lim.Sandbox.Running())
			}
			// the gateway process itself must not have gone on parsing
			if st := allStacks(); strings.Contains(st, "dslipak/pdf") {
				t.Errorf("a goroutine of this process is in the PDF reader:\n%s", st)
			}
			before := selfCPU(t)
			time.Sleep(500 * time.Millisecond)
			if used := selfCPU(t) - before; used > 300*time.Millisecond {
				t.Errorf("process used %v of CPU in 500ms after the walk", used)
			}
		})
	}
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// selfCPU is this process's user+system CPU time.
func selfCPU(t testing.TB) time.Duration {
	st, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	// fields after comm: state(0) ... utime(11) stime(12), in clock ticks
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+sy) * 10 * time.Millisecond
}

func TestSandboxCapsConcurrentWorkers(t *testing.T) {
	mail := pdfMail("bomb.pdf", pdfBomb(t))
	forEachWorker(t, func(t *testing.T, k workerKind) { testSandboxCapsConcurrentWorkers(t, k, mail) })
}

func testSandboxCapsConcurrentWorkers(t *testing.T, k workerKind, mail []byte) {
	sb := k.sandbox(2)
	lim := Limits{MaxRatio: 1 << 20, MaxInflated: 1 << 40, PDFTimeout: 1500 * time.Millisecond, Sandbox: sb}
	var peak atomic.Int32
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if n := int32(sb.Running()); n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	})
	var wg sync.WaitGroup
	reasons := make([]string, 5)
	start := time.Now()
	for i := range reasons {
		wg.Go(func() {
			var got string
			_, err := Walk(context.Background(), bytes.NewReader(mail), lim, func(p *Part) error {
				if p.Attachment != nil {
					got = p.Unscannable
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			reasons[i] = got
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	sampler.Wait()
	if p := peak.Load(); p > 2 || p == 0 {
		t.Errorf("peak concurrent workers = %d, cap 2", p)
	}
	for i, r := range reasons {
		if r != "PDF text extraction exceeded its time budget" {
			t.Errorf("walk %d: unscannable %q", i, r)
		}
	}
	// five 1.5 s extractions two at a time take three rounds
	if took < 4*time.Second {
		t.Errorf("5 walks took %v: the cap did not queue them", took)
	}
}

// A walk that must wait longer than its own deadline for a worker slot
// gives up with a plain reason instead of queueing forever.
func TestSandboxQueueBoundedByWalkDeadline(t *testing.T) {
	sb := NewSandbox(1)
	sb.slots <- struct{}{} // the only slot is taken
	defer func() { <-sb.slots }()
	_, parts := walkBytes(t, pdfMail("a.pdf", pdfWithContent([]byte("BT /F1 12 Tf (hello) Tj ET"), "")),
		Limits{Timeout: 300 * time.Millisecond, Sandbox: sb})
	if p := part(t, parts, "attachment:a.pdf", 0); p.Unscannable != "PDF text extraction did not start before the time limit" {
		t.Fatalf("unscannable = %q", p.Unscannable)
	}
}

func TestPDFWorkerExtractsSimplePDF(t *testing.T) {
	forEachWorker(t, func(t *testing.T, k workerKind) {
		_, parts := walkBytes(t, pdfMail("a.pdf", pdfWithContent([]byte("BT /F1 12 Tf (hello world) Tj ET"), "")), Limits{Sandbox: k.sandbox(1)})
		p := part(t, parts, "attachment:a.pdf", 0)
		if p.Unscannable != "" || !strings.Contains(string(p.Text), "hello world") {
			t.Fatalf("unscannable %q text %q", p.Unscannable, p.Text)
		}
	})
}

// Without ServeWorker in main the parser is not run at all, rather than
// unbounded in the gateway's process; a worker program needs no hook.
func TestPDFWithoutWorkerHookIsUnscannable(t *testing.T) {
	prog := workerProgram(t)
	workerReady.Store(false)
	defer workerReady.Store(true)
	mail := pdfMail("a.pdf", pdfWithContent([]byte("BT /F1 12 Tf (hello) Tj ET"), ""))
	_, parts := walkBytes(t, mail, Limits{Sandbox: NewSandbox(1)})
	if p := part(t, parts, "attachment:a.pdf", 0); p.Unscannable != "PDF text extraction is not available in this program" || len(p.Text) != 0 {
		t.Fatalf("unscannable = %q, text %q", p.Unscannable, p.Text)
	}
	sb := NewSandbox(1)
	sb.SetProgram(prog)
	_, parts = walkBytes(t, mail, Limits{Sandbox: sb})
	if p := part(t, parts, "attachment:a.pdf", 0); p.Unscannable != "" || !strings.Contains(string(p.Text), "hello") {
		t.Fatalf("with %s: unscannable = %q, text %q", ProgramName, p.Unscannable, p.Text)
	}
}

// The tolerant re-read (enmime) cannot be interrupted and is quadratic in
// the number of parts: a broken message with tens of thousands of tiny
// parts is not handed to it, and the walk keeps to its time limit.
func TestFallbackRefusesPartFlood(t *testing.T) {
	var b strings.Builder
	b.WriteString(brokenStructure[:strings.Index(brokenStructure, "--B--")])
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "--B\r\nContent-Type: text/plain; name=\"a%d.txt\"\r\n\r\nx\r\n", i)
	}
	b.WriteString("--B--\r\n")
	start := time.Now()
	m, _ := walkBytes(t, []byte(b.String()), Limits{Timeout: 2 * time.Second})
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("walk took %v with a 2s limit", d)
	}
	if !m.Incomplete {
		t.Error("message not marked incomplete")
	}
	wantError(t, m, "MIME delimiter lines (over 2000)")
}

func TestWorkerReasonIsShortPlainText(t *testing.T) {
	got := workerReason(append([]byte("bad\r\nxref \xff"), bytes.Repeat([]byte("x"), 500)...))
	if len(got) > 200 || strings.ContainsAny(got, "\r\n") || !strings.HasPrefix(got, "bad  xref ?") {
		t.Fatalf("workerReason = %q", got)
	}
}

// A worker that cannot confine itself (here: a budget it rejects) is told
// apart from a crash of the reader.
func TestWorkerSetupFailureReason(t *testing.T) {
	forEachWorker(t, func(t *testing.T, k workerKind) {
		_, err := k.sandbox(1).run(context.Background(), "no-such-mode", strings.NewReader("x"),
			worker.Budget{Wall: 5 * time.Second, CPU: time.Second, Memory: 1 << 30, MaxIn: 1, MaxText: 1, Ratio: 1, Inflated: 1})
		var se *stopError
		if !errors.As(err, &se) || se.reason != reasonSetup {
			t.Fatalf("err = %v", err)
		}
	})
}
