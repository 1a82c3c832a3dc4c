//go:build !purego

package b64

import "golang.org/x/sys/cpu"

// decodeAVX2 decodes src's leading 32-character blocks into 24 bytes each
// while a block has only standard alphabet characters (no padding, no
// line break) and dst has room for a 32-byte store; it returns the bytes
// written and the characters read.
//
//go:noescape
func decodeAVX2(dst, src []byte) (di, si int)

// encode48AVX2 encodes the 48 bytes at src (56 are read) into the 64
// characters at dst.
//
//go:noescape
func encode48AVX2(dst, src *byte)

// useAVX2 selects the vector decoder (tests switch it off to compare).
var useAVX2 = cpu.X86.HasAVX2
