package b64

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// referenceBase64 is what decodeBody did before: base64.NewDecoder behind
// a filter of spaces and tabs.
func referenceBase64(in []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, in)
	return io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(clean)))
}

func checkBase64(t *testing.T, in []byte) {
	t.Helper()
	want, werr := referenceBase64(in)
	for _, r := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in)), iotest.HalfReader(bytes.NewReader(in))} {
		got, gerr := io.ReadAll(NewReader(r))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: error %v, want %v", in, gerr, werr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q: decoded %q, want %q", in, got, want)
		}
	}
}

func TestReaderMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 2, 3, 57, 1000, 70000} {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(rng.UintN(256))
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		var lines strings.Builder
		for len(enc) > 76 {
			lines.WriteString(enc[:76] + " \t\r\n")
			enc = enc[76:]
		}
		lines.WriteString(enc + "\r\n")
		checkBase64(t, []byte(lines.String()))
	}
	for _, s := range []string{"QQ==", "QQ==\r\nQUFB", "QUFB\r\nQQ", "QU!B", "QUFBQ", "QQ=", "Q===", "  QUFB  \r\n", "\r\n", "QUFB====", "QQ==\r\n\r\n"} {
		checkBase64(t, []byte(s))
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("QUFB\r\nQkJC \t\r\nQw==\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) { checkBase64(t, in) })
}

// spaceToNL is go-message's whitespaceReplacingReader: spaces and tabs
// become line breaks, which base64.NewDecoder drops.
type spaceToNL struct{ r io.Reader }

func (s spaceToNL) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	for i, c := range p[:n] {
		if c == ' ' || c == '\t' {
			p[i] = '\n'
		}
	}
	return n, err
}

// BenchmarkReader decodes a 1 MiB attachment of 76-character lines:
// /bulk with Reader, /stdlib as go-message decodes a part.
func BenchmarkReader(b *testing.B) {
	raw := make([]byte, 768<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(rng.UintN(256))
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var lines strings.Builder
	for len(enc) > 76 {
		lines.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	lines.WriteString(enc + "\r\n")
	in := []byte(lines.String())
	buf := make([]byte, 32<<10)
	b.Run("bulk", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			d := NewReader(bytes.NewReader(in))
			if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil {
				b.Fatal(err)
			}
			d.Release()
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			d := base64.NewDecoder(base64.StdEncoding, spaceToNL{bytes.NewReader(in)})
			if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
