package extract

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// reference decodes with x/text (or toValidUTF8 for UTF-8), the behaviour
// the fast decoders must reproduce byte for byte.
func reference(t testing.TB, e encoding.Encoding, b []byte) []byte {
	t.Helper()
	if e == unicode.UTF8 {
		out, _ := toValidUTF8(b)
		return out
	}
	out, _, err := transform.Bytes(e.NewDecoder(), b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeChunked feeds b to a fresh decoder in pieces of the given sizes
// (cycled), so sequences are cut at every position.
func decodeChunked(e encoding.Encoding, b []byte, sizes ...int) ([]byte, int) {
	d := newTextDecoder(e)
	var out []byte
	for i := 0; len(b) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(b))
		out = d.Append(out, b[:n], n == len(b))
		b = b[n:]
	}
	out = d.Append(out, nil, true)
	return out, d.Bad()
}

var decoderCharsets = []encoding.Encoding{japanese.ShiftJIS, japanese.EUCJP, unicode.UTF8, japanese.ISO2022JP, charmap.Windows1252}

// japaneseSample mixes ASCII, kanji, kana, half-width kana, CP932
// extensions and JIS X 0212 in the given encoding.
func japaneseSample(t testing.TB, e encoding.Encoding) []byte {
	s := "氏名,住所,電話\r\n佐藤 太郎,東京都千代田区丸の内1-1-1,090-1111-2222\r\nｶﾀｶﾅ ①㈱髙 ひらがな カタカナ\r\n"
	if e == japanese.EUCJP {
		s += "丂丄" // JIS X 0212 in EUC-JP (0x8F ...)
	}
	if e == charmap.Windows1252 {
		s = "café crème brûlée, naïve résumé\r\n"
	}
	enc, _, err := transform.String(e.NewEncoder(), s)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat([]byte(enc), 20)
}

func TestDecoderMatchesXText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, e := range decoderCharsets {
		t.Run(encodingName(e), func(t *testing.T) {
			inputs := [][]byte{japaneseSample(t, e)}
			for range 200 {
				b := make([]byte, rng.IntN(64))
				for i := range b {
					b[i] = byte(rng.UintN(256))
				}
				inputs = append(inputs, b)
			}
			// every two-byte value and its truncations
			for c0 := 0x80; c0 < 0x100; c0++ {
				for c1 := 0; c1 < 0x100; c1 += 3 {
					inputs = append(inputs, []byte{byte(c0), byte(c1)}, []byte{byte(c0), byte(c1), 'a'}, []byte{'a', byte(c0)})
				}
				inputs = append(inputs, []byte{0x8F, byte(c0), 0xA1}, []byte{0x8F, 0xB0, byte(c0)})
			}
			for _, in := range inputs {
				want := reference(t, e, in)
				got, bad := decodeAll(e, in)
				if !bytes.Equal(got, want) {
					t.Fatalf("% x: got %q, want %q", in, got, want)
				}
				if wantBad := bytes.Count(want, []byte(replacement)); e != unicode.UTF8 && bad != wantBad {
					t.Fatalf("% x: %d bad, want %d", in, bad, wantBad)
				}
				for _, sizes := range [][]int{{1}, {2}, {3, 1}, {5, 2, 7}} {
					got, bad2 := decodeChunked(e, in, sizes...)
					if !bytes.Equal(got, want) || bad2 != bad {
						t.Fatalf("% x in chunks %v: got %q (%d bad), want %q (%d bad)", in, sizes, got, bad2, want, bad)
					}
				}
			}
		})
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\x93\x8c\x8b\x9e abc \xb1\xb2"), uint8(0), uint8(3))
	f.Add([]byte("\xc5\xec\xb5\xfe \x8e\xb1 \x8f\xb0\xa1"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, which, chunk uint8) {
		e := decoderCharsets[int(which)%len(decoderCharsets)]
		want := reference(t, e, in)
		got, _ := decodeAll(e, in)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s % x: got %q, want %q", encodingName(e), in, got, want)
		}
		got, _ = decodeChunked(e, in, int(chunk%9)+1)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s % x in chunks of %d: got %q, want %q", encodingName(e), in, chunk%9+1, got, want)
		}
	})
}
