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
	cpu := uint64(CPUSeconds(b.CPU))
	limits := []struct {
		res      int
		cur, max uint64
	}{
		{syscall.RLIMIT_CPU, cpu, cpu + 1},
		{syscall.RLIMIT_CORE, 0, 0},
		{syscall.RLIMIT_FSIZE, 0, 0},
		{syscall.RLIMIT_NOFILE, 32, 32},
	}
	if base := addressSpace(); base > 0 {
		as := uint64(base + b.Memory)
		limits = append(limits, struct {
			res      int
			cur, max uint64
		}{syscall.RLIMIT_AS, as, as})
	}
	for _, l := range limits {
		if err := syscall.Setrlimit(l.res, &syscall.Rlimit{Cur: l.cur, Max: l.max}); err != nil {
			return err
		}
	}
	// collect hard before the address-space limit turns growth into a crash
	debug.SetMemoryLimit(b.Memory * 3 / 4)
	// SIGXCPU comes at the soft CPU limit: leave with a code the parent reads
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGXCPU)
	go func() {
		<-c
		os.Exit(ExitCPU)
	}()
	return nil
}

// addressSpace is the process's current virtual size in bytes, read from
// /proc (0 where there is none: the memory budget is then only the Go soft
// limit). The budget is added to it because the runtime reserves address
// space at start (far more under the race detector), so the budget means
// the same whichever program serves as the worker.
func addressSpace() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
