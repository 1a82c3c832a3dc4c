//go:build unix

package worker

import (
	"bytes"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
)

// confine applies the budget to the worker itself, before it reads input.
// The hard limits cannot be raised again by an unprivileged process.
func confine(b Budget) error {
	if err := confineTo(b); err != nil {
		return err
	}
	return prepare()
}

// prepare sets what does not depend on the budget: no core dumps, no file
// written, few descriptors, and the SIGXCPU handler. A spare worker does
// this while it waits, so its file does not wait for it.
func prepare() error {
	for _, l := range []struct {
		res      int
		cur, max uint64
	}{
		{syscall.RLIMIT_CORE, 0, 0},
		{syscall.RLIMIT_FSIZE, 0, 0},
		{syscall.RLIMIT_NOFILE, 32, 32},
	} {
		if err := setrlimit(l.res, l.cur, l.max); err != nil {
			return err
		}
	}
	// SIGXCPU comes at the soft CPU limit: leave with a code the parent reads
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGXCPU)
	go func() {
		<-c
		os.Exit(ExitCPU)
	}()
	return nil
}

// confineTo applies the budget's own limits: CPU and memory.
func confineTo(b Budget) error {
	cpu := uint64(CPUSeconds(b.CPU))
	if err := setrlimit(syscall.RLIMIT_CPU, cpu, cpu+1); err != nil {
		return err
	}
	// the address space now, as the budget arrives: what the worker
	// reserved while it waited is not the budget's
	if base := addressSpace(); base > 0 {
		as := uint64(base + b.Memory)
		if err := setrlimit(rlimitAS, as, as); err != nil {
			return err
		}
	}
	// collect hard before the address-space limit turns growth into a crash
	debug.SetMemoryLimit(b.Memory * 3 / 4)
	return nil
}

// addressSpace is the process's current virtual size in bytes, read from
// /proc (0 where there is none: the memory budget is then only the Go soft
// limit). The budget is added to it because the runtime reserves address
// space at start (far more under the race detector), so the budget means
// the same whichever program serves as the worker.
func addressSpace() int64 {
	// read with plain system calls: os.ReadFile would start the runtime's
	// poller (an epoll instance and an eventfd) for this one small read
	fd, err := syscall.Open("/proc/self/statm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	var buf [128]byte
	n, err := syscall.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0
	}
	f := bytes.Fields(buf[:n])
	if len(f) == 0 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
