//go:build !linux

package edm

// hugePage: elsewhere the index stays on the heap's ordinary pages.
const hugePage = 2 << 20

func hugeBytes(n int) []byte { return make([]byte, n) }

func settleHuge([]byte) {}
