package b64

import (
	"encoding/binary"
	"unsafe"
)

// EncodeLine writes the 76 base64 characters of a 57-byte group, what
// base64.StdEncoding.Encode writes: its first 48 bytes in two AVX2 steps
// where the CPU has them, the rest six bytes per step (one 8-byte load,
// four lookups of two characters, one 8-byte store) where Encode reads and
// writes byte by byte.
func EncodeLine(dst, src []byte) {
	_ = dst[75]
	_ = src[56]
	i := 0
	if useAVX2 {
		// reads src[0:56], writes dst[0:64]
		encode48AVX2(unsafe.SliceData(dst), unsafe.SliceData(src))
		i = 48
	}
	for ; i < 54; i += 6 {
		// src[i+6:i+8] are read but not encoded; i+8 <= 56.
		x := binary.BigEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(dst[i/6*8:], uint64(pairs[x>>52&0xfff])|
			uint64(pairs[x>>40&0xfff])<<16|
			uint64(pairs[x>>28&0xfff])<<32|
			uint64(pairs[x>>16&0xfff])<<48)
	}
	v := uint(src[54])<<16 | uint(src[55])<<8 | uint(src[56])
	binary.LittleEndian.PutUint16(dst[72:], pairs[v>>12])
	binary.LittleEndian.PutUint16(dst[74:], pairs[v&0xfff])
}

// pairs holds the two base64 characters of every 12-bit value, the first
// in the low byte.
var pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()
