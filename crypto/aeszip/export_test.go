package aeszip

import "time"

// SetSHANI switches the assembly key derivation on or off (if the CPU has
// it) for A/B benchmarks and returns the previous setting.
func SetSHANI(on bool) (was bool) {
	was = useSHANI
	useSHANI = on && hasSHANI()
	return was
}

// ThreadCPU is threadCPU for the external tests.
func ThreadCPU() time.Duration { return threadCPU() }
