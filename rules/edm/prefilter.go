package edm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// The prefilter is a blocked Bloom filter over every value in the index,
// keyed with SipHash-2-4 under a key derived from the HMAC key. Most
// candidate tokens of a message are not in the list: the prefilter turns
// them away for the price of a SipHash and one cache line, before the
// HMAC and the table lookup. Keyed, it tells nothing to whoever holds the
// index without the key.
const (
	blockBytes = 64 // one cache line: 512 bits
	// bloomBitsPerValue sizes the filter at write time (≈1–2 % false
	// positives with three bits per value in a 512-bit block).
	bloomBitsPerValue = 12
	// maxBloomBlocks is the size the builder collects into (16 MiB, good
	// for ≈11 M values at the rate above); it is folded down when written.
	maxBloomBlocks = 1 << 18
)

type sipKey struct{ k0, k1 uint64 }

func prefilterKey(key []byte) sipKey {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sendguard edm prefilter"))
	s := m.Sum(nil)
	return sipKey{binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])}
}

// siphash is SipHash-2-4 (Aumasson and Bernstein, 2012).
func siphash(k sipKey, p []byte) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(p)
	for len(p) >= 8 {
		m := binary.LittleEndian.Uint64(p)
		v3 ^= m
		round()
		round()
		v0 ^= m
		p = p[8:]
	}
	var last [8]byte
	copy(last[:], p)
	last[7] = byte(n)
	m := binary.LittleEndian.Uint64(last[:])
	v3 ^= m
	round()
	round()
	v0 ^= m
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}

// bloom is a blocked Bloom filter: the low bits of a hash choose a block,
// three 9-bit fields of the high bits choose the bits in it.
type bloom []byte

func (b bloom) blocks() int { return len(b) / blockBytes }

func (b bloom) add(h uint64) {
	blk := b[int(h&uint64(b.blocks()-1))*blockBytes:]
	for i := range 3 {
		bit := (h >> (64 - 9*(i+1))) & 511
		blk[bit>>3] |= 1 << (bit & 7)
	}
}

// fetch starts bringing in h's block (prefetch), for has shortly after.
func (b bloom) fetch(h uint64) {
	prefetch(&b[int(h&uint64(b.blocks()-1))*blockBytes])
}

func (b bloom) has(h uint64) bool {
	blk := b[int(h&uint64(b.blocks()-1))*blockBytes:]
	for i := range 3 {
		bit := (h >> (64 - 9*(i+1))) & 511
		if blk[bit>>3]&(1<<(bit&7)) == 0 {
			return false
		}
	}
	return true
}

// fold halves the filter until it is no larger than needed for n values:
// block i and block i+half merge, which is what masking the hash with
// half−1 selects, so every value added stays present.
func (b bloom) fold(n int) bloom {
	want := 1
	for want*blockBytes*8 < n*bloomBitsPerValue && want < b.blocks() {
		want *= 2
	}
	for b.blocks() > want {
		half := len(b) / 2
		for i := range half {
			b[i] |= b[half+i]
		}
		b = b[:half]
	}
	return b
}
