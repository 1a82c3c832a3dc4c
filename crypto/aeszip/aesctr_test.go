package aeszip

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// checkCTR compares the AES-NI keystream (when the CPU has it) with the
// crypto/aes one for key, starting after counter ctr, over n bytes
// XORed in pieces of the given sizes.
func checkCTR(t *testing.T, key []byte, ctr uint64, n int, pieces []int) {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	rk := expandKey256(key)
	if rk == nil {
		t.Skip("no AES-NI")
	}
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(i * 7)
	}
	want, got := make([]byte, n), make([]byte, n)
	ref := newCTRStream(&aesKeys{block: block})
	ref.counter = ctr
	ref.xor(want, src)
	ni := newCTRStream(&aesKeys{block: block, rk: rk})
	ni.counter = ctr
	for off, i := 0, 0; off < n; i++ {
		m := min(n-off, max(pieces[i%len(pieces)], 1))
		ni.xor(got[off:off+m], src[off:off+m])
		off += m
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("key %x counter %d: keystreams differ from byte %d of %d", key, ctr, i, n)
	}
}

// TestAESNIKeystream: the assembly keystream (key schedule, counter
// blocks, eight blocks at a time) equals crypto/aes block by block, for
// random keys, counters that cross 2^32 and wrap 2^64, and writes that
// split refills anywhere.
func TestAESNIKeystream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 32)
	for i := range 200 {
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		ctr := uint64(rng.IntN(1000))
		switch i % 4 {
		case 1:
			ctr = 1<<32 - uint64(rng.IntN(200))
		case 2:
			ctr = ^uint64(0) - uint64(rng.IntN(200))
		}
		n := rng.IntN(5 * ksBlocks * aes.BlockSize)
		checkCTR(t, key, ctr, n, []int{rng.IntN(40), rng.IntN(3000), 1, 16, rng.IntN(300)})
	}
}

// TestAESNIKeySchedule: the last round key of FIPS 197 appendix C.3's
// AES-256 key 000102...1f (round[14].k_sch).
func TestAESNIKeySchedule(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	rk := expandKey256(key)
	if rk == nil {
		t.Skip("no AES-NI")
	}
	want := []byte{0x24, 0xfc, 0x79, 0xcc, 0xbf, 0x09, 0x79, 0xe9, 0x37, 0x1a, 0xc2, 0x3c, 0x6d, 0x68, 0xde, 0x36}
	if got := rk[224:240]; !bytes.Equal(got, want) {
		t.Fatalf("last round key % x, want % x", got, want)
	}
}

func FuzzAESNIKeystream(f *testing.F) {
	f.Add(make([]byte, 32), uint64(0), 1000, 7)
	f.Add(bytes.Repeat([]byte{0xff}, 32), ^uint64(0)-3, 5000, 1024)
	f.Fuzz(func(t *testing.T, key []byte, ctr uint64, n, piece int) {
		if len(key) != 32 || n < 0 || n > 1<<16 {
			return
		}
		checkCTR(t, key, ctr, n, []int{piece % 5000})
	})
}

// BenchmarkCTR is the keystream XOR over a 200 KB entry with crypto/aes
// block by block and with the AES-NI kernel.
func BenchmarkCTR(b *testing.B) {
	key := make([]byte, 32)
	block, _ := aes.NewCipher(key)
	buf := make([]byte, 200<<10)
	for _, k := range []struct {
		name string
		keys *aesKeys
	}{{"crypto-aes", &aesKeys{block: block}}, {"aesni", &aesKeys{block: block, rk: expandKey256(key)}}} {
		b.Run(k.name, func(b *testing.B) {
			if k.keys.rk == nil && k.name == "aesni" {
				b.Skip("no AES-NI")
			}
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				newCTRStream(k.keys).xor(buf, buf)
			}
		})
	}
}
