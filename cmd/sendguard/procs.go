package main

import "runtime"

// procsPerCore is how many Go Ps the gateway runs per CPU the runtime
// would use by default (its count honours the CPU affinity and a cgroup's
// quota at start).
//
// With one P per core, an SMTP reply or a delivery result waits for a P
// held by an analysis or a zip (the runtime preempts a running goroutine
// every 10 ms) or by a goroutine in a disk system call (fsync, a spool
// write) until the runtime takes that P back; on the default corpus about
// a tenth of the cores stayed idle while sessions waited. With twice as
// many Ps the kernel's scheduler shares the cores among them and switches
// sooner: same-run measurements are in the README (*Where the default
// corpus's gap is*).
const procsPerCore = 2

// setProcs sets GOMAXPROCS to procsPerCore times the runtime's default
// unless GOMAXPROCS is in the environment, which then stands. It returns
// the count in force. Setting it turns off the runtime's later updates of
// the default (a cgroup quota changed while running): restart the gateway
// after changing its CPU quota.
func setProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	runtime.SetDefaultGOMAXPROCS()
	n := procsPerCore * runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(n)
	return n
}
