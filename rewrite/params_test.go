package rewrite

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/emersion/go-message/charset"
)

func TestParseParamsFilenames(t *testing.T) {
	cases := map[string]string{
		`attachment; filename="plain name.pdf"`:                                         "plain name.pdf",
		`attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf`:                           "見積.pdf",
		`attachment; filename*0*=ISO-2022-JP''%1B%24B8%2B%40Q%1B%28B; filename*1*=.pdf`: "見積.pdf",
		`attachment; filename="=?ISO-2022-JP?B?GyRCOCtAURsoQg==?=.pdf"`:                 "見積.pdf",
		"attachment; filename=\"\x8c\xa9\x90\xcf.pdf\"":                                 "見積.pdf",
		`attachment; filename="fallback.pdf"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf`:  "見積.pdf",
		`attachment; FILENAME*0="a"; filename*1="b.txt"`:                                "ab.txt",
		`attachment; filename="semi;colon.txt"`:                                         "semi;colon.txt",
		`attachment; filename*=X-UNKNOWN''%41.txt`:                                      "A.txt",
	}
	for in, want := range cases {
		_, p := parseParams(in)
		if p["filename"] != want {
			t.Errorf("%s: got %q, want %q", in, p["filename"], want)
		}
	}
}

// charsetBytes gives what charset.Reader gives, on valid and broken input
// alike, for the charsets it decodes itself.
func TestCharsetBytesSameAsReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{[]byte("\x1b$B8+@Q\x1b(B.pdf"), []byte("\x8c\xa9\x90\xcf"), []byte("\xb8\xab\xc0\xd1"), {}, []byte("\x1b$B8+"), []byte("\x82")}
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(8) == 0 {
				b[i] = 0x1b
			}
		}
		inputs = append(inputs, b)
	}
	for _, cs := range []string{"ISO-2022-JP", "iso-2022-jp", "Shift_JIS", "EUC-JP", "utf-8", "iso-8859-1"} {
		for _, in := range inputs {
			r, err := charset.Reader(cs, bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			want, werr := io.ReadAll(r)
			got, gerr := charsetBytes(in, cs)
			if (werr == nil) != (gerr == nil) || (werr == nil && !bytes.Equal(got, want)) {
				t.Fatalf("%s %q: got %q %v, want %q %v", cs, in, got, gerr, want, werr)
			}
		}
	}
}
