//go:build !amd64 || purego

package b64

func decodeAVX2(dst, src []byte) (di, si int) { return 0, 0 }

var useAVX2 = false

func encode48AVX2(dst, src *byte) {}
