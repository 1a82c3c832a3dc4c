//go:build !linux

package inspect

import "time"

var start = time.Now()

// threadCPU falls back to wall time where no thread clock is read.
func threadCPU() time.Duration { return time.Since(start) }
