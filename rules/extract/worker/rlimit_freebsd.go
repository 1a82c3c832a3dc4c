package worker

import (
	"math"
	"syscall"
)

// setrlimit: FreeBSD's rlimit fields are signed; a limit past their range
// is no limit (RLIM_INFINITY).
func setrlimit(res int, cur, max uint64) error {
	signed := func(v uint64) int64 {
		if v > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(v)
	}
	return syscall.Setrlimit(res, &syscall.Rlimit{Cur: signed(cur), Max: signed(max)})
}
