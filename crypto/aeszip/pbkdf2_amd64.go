//go:build !purego

package aeszip

import (
	"crypto/sha1"
	"encoding"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/cpu"
)

//go:generate go run pbkdf2_amd64_gen.go

// niState is pbkdf2SHANI's argument, in SHA-NI register order (A in the
// top dword, E alone in the top dword of its own vector): the ipad and opad
// states (ABCD, E, E with the 0x80 padding word W5 set, which is also how a
// digest is laid out as the next message's W4-W7), then for each of two
// blocks its first U, which comes back as its T.
type niState [10][4]uint32

// pbkdf2SHANI runs n rounds on the two blocks in s; pbkdf2SHANI512 is the
// same with the message schedule in AVX-512 registers.
//
//go:noescape
func pbkdf2SHANI(s *niState, n uint64)

//go:noescape
func pbkdf2SHANI512(s *niState, n uint64)

// shaniKernel is the fastest of them the CPU runs (tests switch it).
var shaniKernel = pbkdf2SHANI

func init() {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW {
		shaniKernel = pbkdf2SHANI512
	}
}

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// hasSHANI reports the SHA extensions (CPUID.7.0:EBX bit 29, which x/sys/cpu
// does not export) and SSSE3 (PALIGNR), all that pbkdf2SHANI needs beyond
// amd64's baseline SSE2.
func hasSHANI() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 || !cpu.X86.HasSSSE3 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<29) != 0
}

// putDigest stores a big-endian SHA-1 digest as an ABCD and an E vector.
func putDigest(abcd, e *[4]uint32, d []byte, padded bool) {
	for i := range 4 {
		abcd[3-i] = binary.BigEndian.Uint32(d[4*i:])
	}
	*e = [4]uint32{3: binary.BigEndian.Uint32(d[16:])}
	if padded {
		e[2] = 0x80000000
	}
}

// pbkdf2SHA1NI derives with pbkdf2SHANI, two blocks per call; an odd last
// block runs beside a spare one, which costs no extra time as each chain
// is bound by SHA1RNDS4's latency.
func pbkdf2SHA1NI(password string, salt []byte, iter, keyLen int) ([]byte, error) {
	h, inner, outer, err := padStates(password)
	if err != nil {
		return nil, err
	}
	un := h.(encoding.BinaryUnmarshaler)
	var s niState
	putDigest(&s[0], &s[1], inner[stateDigest:], false)
	putDigest(&s[3], &s[4], outer[stateDigest:], false)
	s[2], s[5] = s[1], s[4]
	s[2][2], s[5][2] = 0x80000000, 0x80000000

	// U1 = HMAC(password, salt || INT(n)), from the saved pad states.
	var u [sha1.Size]byte
	first := func(n uint32) error {
		if err := un.UnmarshalBinary(inner); err != nil {
			return err
		}
		h.Write(salt)
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], n)
		h.Write(c[:])
		h.Sum(u[:0])
		if err := un.UnmarshalBinary(outer); err != nil {
			return err
		}
		h.Write(u[:])
		h.Sum(u[:0])
		return nil
	}
	blocks := (keyLen + sha1.Size - 1) / sha1.Size
	out := make([]byte, 0, (blocks+1)/2*2*sha1.Size)
	for n := uint32(1); len(out) < keyLen; n += 2 {
		for c := range uint32(2) {
			if err := first(n + c); err != nil {
				return nil, fmt.Errorf("pbkdf2: %w", err)
			}
			putDigest(&s[6+2*c], &s[7+2*c], u[:], true)
		}
		shaniKernel(&s, uint64(iter-1))
		for c := range 2 {
			abcd, e := &s[6+2*c], &s[7+2*c]
			for i := range 4 {
				out = binary.BigEndian.AppendUint32(out, abcd[3-i])
			}
			out = binary.BigEndian.AppendUint32(out, e[3])
		}
	}
	clear(s[:])
	clear(u[:])
	clear(inner)
	clear(outer)
	clear(out[keyLen:])
	return out[:keyLen], nil
}
