//go:build !linux

package worker

func inputBuffer(n int64) []byte { return make([]byte, n) }
