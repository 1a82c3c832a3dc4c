package disposition

import (
	"log/slog"
	"runtime"
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
