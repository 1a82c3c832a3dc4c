package b64

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// checkDecode compares Decode with the library on src, with dst of room
// bytes (at least the library's need).
func checkDecode(t *testing.T, src []byte, room int) {
	t.Helper()
	want := make([]byte, room)
	got := make([]byte, room)
	wn, werr := base64.StdEncoding.Decode(want, src)
	gn, gerr := Decode(got, src)
	if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("src %q (room %d):\nDecode %d %v %x\nlibrary %d %v %x", src, room, gn, gerr, got[:gn], wn, werr, want[:wn])
	}
}

func TestDecodeSameAsLibrary(t *testing.T) {
	if !useAVX2 {
		t.Log("no AVX2: Decode is the library's")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	// Every byte value at every position of two blocks.
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 72; pos++ {
			src := make([]byte, 72)
			for i := range src {
				src[i] = alpha[rng.IntN(64)]
			}
			src[pos] = byte(c)
			checkDecode(t, src, base64.StdEncoding.DecodedLen(len(src)))
		}
	}
	// Encodings of random data, whole, cut, padded, with line breaks, with
	// stray bytes; dst exactly the library's need and larger.
	for i := 0; i < 20000; i++ {
		data := make([]byte, rng.IntN(600))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		src := []byte(base64.StdEncoding.EncodeToString(data))
		switch rng.IntN(6) {
		case 1:
			src = src[:rng.IntN(len(src)+1)]
		case 2:
			var b []byte
			for len(src) > 76 {
				b = append(append(b, src[:76]...), "\r\n"...)
				src = src[76:]
			}
			src = append(b, src...)
		case 3:
			if len(src) > 0 {
				src[rng.IntN(len(src))] = byte(rng.Uint32())
			}
		case 4:
			src = append(src, src...) // data after padding
		}
		room := base64.StdEncoding.DecodedLen(len(src))
		checkDecode(t, src, room)
		checkDecode(t, src, room+rng.IntN(40))
	}
}

func TestDecodeAVX2Blocks(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	data := make([]byte, 3*1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	src := []byte(base64.StdEncoding.EncodeToString(data))
	dst := make([]byte, len(data)+8)
	di, si := decodeAVX2(dst, src)
	if si != len(src)/32*32 || di != si/4*3 || !bytes.Equal(dst[:di], data[:di]) {
		t.Fatalf("decodeAVX2: di %d si %d", di, si)
	}
	// Room for a whole store is required.
	if di, si := decodeAVX2(make([]byte, 31), src); di != 0 || si != 0 {
		t.Fatalf("short dst: di %d si %d", di, si)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg=="), 0)
	f.Fuzz(func(t *testing.T, src []byte, extra int) {
		checkDecode(t, src, base64.StdEncoding.DecodedLen(len(src))+extra&63)
	})
}

func BenchmarkDecode(b *testing.B) {
	data := make([]byte, 24<<10)
	for i := range data {
		data[i] = byte(i * 13)
	}
	src := []byte(base64.StdEncoding.EncodeToString(data))
	dst := make([]byte, len(data)+32)
	b.Run("library", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			base64.StdEncoding.Decode(dst, src)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			Decode(dst, src)
		}
	})
}

// TestEncodeLine: the 57-byte group encoder writes what the standard one
// does, with and without AVX2, for every 12-bit value in every position
// and random groups.
func TestEncodeLine(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	rng := rand.New(rand.NewPCG(5, 6))
	var src [57]byte
	dst, want := make([]byte, 76), make([]byte, 76)
	check := func() {
		for _, v := range []bool{false, useAVX2Orig} {
			useAVX2 = v
			clear(dst)
			EncodeLine(dst, src[:])
			base64.StdEncoding.Encode(want, src[:])
			if !bytes.Equal(dst, want) {
				t.Fatalf("avx2 %v %x: %s, want %s", v, src, dst, want)
			}
		}
	}
	for v := range 1 << 12 {
		for i := 0; i+1 < len(src); i += 3 {
			src[i], src[i+1], src[i+2] = byte(v>>4), byte(v<<4)|byte(v>>8), byte(v)
		}
		check()
		for i := range src {
			src[i] = byte(v >> (i % 5))
		}
		check()
	}
	for range 20000 {
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		check()
	}
}

var useAVX2Orig = useAVX2

func BenchmarkEncodeLine(b *testing.B) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	src := make([]byte, 57*1000)
	for i := range src {
		src[i] = byte(i * 13)
	}
	dst := make([]byte, 76)
	for _, v := range []bool{false, useAVX2Orig} {
		b.Run(map[bool]string{false: "pairs", true: "avx2"}[v], func(b *testing.B) {
			useAVX2 = v
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				for i := 0; i < len(src); i += 57 {
					EncodeLine(dst, src[i:i+57])
				}
			}
		})
	}
}
