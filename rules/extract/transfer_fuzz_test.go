package extract

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzBase64Reader: the line-at-a-time fast path decodes exactly what the
// byte-by-byte decoder does, however the input is cut into reads.
func FuzzBase64Reader(f *testing.F) {
	for _, s := range []string{
		"QUJD\r\nREVG\r\n", "QQ==\r\nQkM=\r\n", "QUJ\r\nDREVG\r\n", "QU*JD\r\n", "QQ==QQ==\r\n",
		"-_-_\r\n", "QUJD REVG\n", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n", "\r\n\r\n", "QUJD",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		ref := &base64Reader{}
		want := ref.slow(nil, data)
		r := &base64Reader{r: iotest.HalfReader(bytes.NewReader(data)), buf: make([]byte, int(cut%64)+1), obuf: make([]byte, 0, 64)}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || r.bad != ref.bad {
			t.Fatalf("decoded %q (%d bad), want %q (%d bad)", got, r.bad, want, ref.bad)
		}
	})
}
