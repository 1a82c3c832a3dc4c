//go:build !amd64 || purego

package aeszip

var useAESNI = false

func expandKey256([]byte) *[240]byte { return nil }

func aesCTR256(*[240]byte, uint64, *byte, int) { panic("aeszip: no AES-NI keystream on this platform") }
