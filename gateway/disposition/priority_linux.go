package disposition

import (
	"log/slog"
	"runtime"
	"sync"
	"syscall"
)

// lowerPriority pins the calling goroutine to its thread and lowers that
// thread's scheduling priority (nice 10). The step worker's zips and link
// packages are CPU-heavy but nobody waits on them in real time, while an
// SMTP client waits for every reply: on a busy machine the kernel now
// serves the sessions first. (Delivery workers keep normal priority: under
// sustained load they must keep up with acceptance.) The goroutine must
// never unlock the thread; the thread ends with it.
func lowerPriority(log *slog.Logger) {
	runtime.LockOSThread()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10); err != nil {
		log.Debug("lower step worker priority", "err", err)
	}
}

// spareProc gives the runtime one P more while the step worker has steps
// to run (the returned func gives it back). The kernel can only put a
// session before the worker if the session's goroutine has a P to run on:
// with GOMAXPROCS Ps and the worker holding one through a zip, a burst of
// deliveries and GC work on the others left sessions runnable, and their
// network readiness unpolled, for up to the runtime's 10 ms preemption
// tick. The spare P makes that wait the kernel's call, which favours the
// sessions' nice-0 threads over the worker's.
//
// Giving the P back restores the count found when the first was added:
// `sendguard serve` sets its own (see cmd/sendguard's setProcs), which the
// runtime's default must not replace.
func spareProc() (restore func()) {
	s := &spareProcs
	s.Lock()
	defer s.Unlock()
	if s.n == 0 {
		s.base = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(s.base + 1)
	}
	s.n++
	return sync.OnceFunc(func() {
		s.Lock()
		defer s.Unlock()
		if s.n--; s.n == 0 {
			runtime.GOMAXPROCS(s.base)
		}
	})
}

// spareProcs counts the step workers running with a spare P (tests run
// several); the first adds the P and the last gives it back.
var spareProcs struct {
	sync.Mutex
	n, base int
}
