//go:build unix

package aeszip_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time used so far by this process and, separately, by
// its waited-for children: ratios of CPU time suffer less than wall time
// from other load on a shared machine.
func cpuTime() (self, children time.Duration) {
	var s, c syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime), tv(c.Utime) + tv(c.Stime)
}
