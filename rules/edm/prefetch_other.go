//go:build !amd64 && !arm64

package edm

func prefetch(*byte) {}
