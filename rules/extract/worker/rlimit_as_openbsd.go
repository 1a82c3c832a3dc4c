package worker

import "syscall"

// rlimitAS: OpenBSD has no RLIMIT_AS; its RLIMIT_DATA covers anonymous
// mappings, which is where the Go heap lives.
const rlimitAS = syscall.RLIMIT_DATA
