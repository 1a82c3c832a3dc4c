//go:build unix && !freebsd

package worker

import "syscall"

func setrlimit(res int, cur, max uint64) error {
	return syscall.Setrlimit(res, &syscall.Rlimit{Cur: cur, Max: max})
}
