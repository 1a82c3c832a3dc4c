//go:build !purego

package aeszip

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

//go:noescape
func aesCTR256(rk *[240]byte, ctr uint64, ks *byte, n int)

func subWord(w uint32) uint32

// useAESNI selects the AES-NI keystream for AES-256 (tests switch it to
// compare with crypto/aes).
var useAESNI = cpu.X86.HasAES

// expandKey256 returns the AES-256 encryption round keys (FIPS 197 5.2) in
// the byte order AESENC takes, or nil without AES-NI. Words are kept
// little-endian, so RotWord is a rotation right and Rcon goes in the low
// byte.
func expandKey256(key []byte) *[240]byte {
	if !useAESNI || len(key) != 32 {
		return nil
	}
	var w [60]uint32
	for i := range 8 {
		w[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := 8; i < len(w); i++ {
		t := w[i-1]
		switch i % 8 {
		case 0:
			t = subWord(t>>8|t<<24) ^ rcon
			rcon <<= 1 // never past 0x40 for AES-256
		case 4:
			t = subWord(t)
		}
		w[i] = w[i-8] ^ t
	}
	rk := new([240]byte)
	for i, x := range w {
		binary.LittleEndian.PutUint32(rk[4*i:], x)
	}
	clear(w[:])
	return rk
}
