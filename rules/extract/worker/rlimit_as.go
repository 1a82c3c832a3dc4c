//go:build unix && !openbsd

package worker

import "syscall"

// rlimitAS bounds the worker's address space.
const rlimitAS = syscall.RLIMIT_AS
