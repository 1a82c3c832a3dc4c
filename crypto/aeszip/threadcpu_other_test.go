//go:build !linux

package aeszip

import "time"

var start = time.Now()

// threadCPU falls back to wall time.
func threadCPU() time.Duration { return time.Since(start) }
