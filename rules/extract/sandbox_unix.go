//go:build unix

package extract

import (
	"os"
	"syscall"
)

// killGroup ends a worker and anything it started. Called only before the
// worker is reaped, so the group id cannot have been reused.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// cpuKilled reports a worker ended by SIGXCPU, RLIMIT_CPU's soft limit,
// before its handler ran. (SIGKILL at the hard limit is told from other
// kills by the CPU time used.)
func cpuKilled(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGXCPU
}

// executable reports whether this process may execute the file at p.
func executable(p string) error {
	const xOK = 1
	return syscall.Access(p, xOK)
}
