package edm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

// hmacRef is the index's keyed hash as crypto/hmac computes it.
func hmacRef(key, v []byte) uint64 {
	m := hmac.New(sha256.New, key)
	m.Write(v)
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// The one-block path gives crypto/hmac's HMAC-SHA256 for every length
// around the block boundaries and for keys shorter and longer than a
// block, with the hasher reused between values.
func TestHasherMatchesHMAC(t *testing.T) {
	for _, key := range [][]byte{testKey, make([]byte, 16), make([]byte, 64), make([]byte, 65), make([]byte, 200)} {
		for i := range key {
			key[i] ^= byte(i*31 + 7)
		}
		h := newHasher(key)
		for n := range 200 {
			v := make([]byte, n)
			for i := range v {
				v[i] = byte(i*7 + n)
			}
			if got, want := h.sumBytes(v), hmacRef(key, v); got != want {
				t.Fatalf("key %d bytes, value %d bytes: %x, want %x", len(key), n, got, want)
			}
		}
	}
}

func FuzzHasher(f *testing.F) {
	f.Add([]byte("山田太郎"), []byte("09012345678"))
	f.Add([]byte{}, make([]byte, shortMax+1))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		h := newHasher(testKey)
		for _, v := range [][]byte{a, b, a} {
			if got, want := h.sumBytes(v), hmacRef(testKey, v); got != want {
				t.Fatalf("%q: %x, want %x", v, got, want)
			}
		}
	})
}

// BenchmarkHasherAB times a short value's keyed hash by crypto/hmac
// (Reset, Write, Sum) and by sumBytes, alternately, and reports the
// fastest of each's batches: the load of a shared machine weighs on the
// minimum least.
func BenchmarkHasherAB(b *testing.B) {
	h := newHasher(testKey)
	v := []byte("09012345678")
	bestOld, bestNew := time.Hour, time.Hour
	for b.Loop() {
		t0 := time.Now()
		for range 1000 {
			h.mac.Reset()
			h.mac.Write(v)
			h.mac.Sum(h.buf[:0])
		}
		t1 := time.Now()
		for range 1000 {
			h.sumBytes(v)
		}
		t2 := time.Now()
		bestOld, bestNew = min(bestOld, t1.Sub(t0)), min(bestNew, t2.Sub(t1))
	}
	b.ReportMetric(float64(bestOld.Nanoseconds())/1000, "ns-hmac-min")
	b.ReportMetric(float64(bestNew.Nanoseconds())/1000, "ns-sum-min")
}
