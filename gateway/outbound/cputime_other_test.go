//go:build !unix

package outbound

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
