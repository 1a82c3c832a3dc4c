package b64

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// filterRef is filter as it was before the word-at-a-time copy: the
// reference the differential tests hold filter to.
func filterRef(q, in []byte) []byte {
	for len(in) > 0 {
		line := in
		if nl := bytes.IndexByte(in, '\n'); nl >= 0 {
			line, in = in[:nl], in[nl+1:]
		} else {
			in = nil
		}
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		if bytes.IndexByte(line, '\r') < 0 && bytes.IndexByte(line, ' ') < 0 && bytes.IndexByte(line, '\t') < 0 {
			q = append(q, line...)
			continue
		}
		for _, c := range line {
			switch c {
			case '\r', ' ', '\t':
			default:
				q = append(q, c)
			}
		}
	}
	return q
}

// refReader is Reader as it was, unpooled, over filterRef.
type refReader struct {
	r      io.Reader
	in     []byte
	q      []byte
	out    []byte
	obuf   []byte
	padded bool
	err    error
}

func newRefReader(r io.Reader) *refReader {
	return &refReader{
		r:    r,
		in:   make([]byte, base64Chunk),
		q:    make([]byte, 0, base64Chunk+4),
		obuf: make([]byte, base64.StdEncoding.DecodedLen(base64Chunk+4)),
	}
}

func (d *refReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, rerr := d.r.Read(d.in)
		d.q = filterRef(d.q, d.in[:n])
		if d.padded && len(d.q) > 0 {
			d.err = base64.CorruptInputError(0)
			return 0, d.err
		}
		k := len(d.q) &^ 3
		if rerr != nil {
			k = len(d.q)
		}
		if k > 0 {
			m, derr := base64.StdEncoding.Decode(d.obuf, d.q[:k])
			d.out = d.obuf[:m]
			if d.q[k-1] == '=' {
				d.padded = true
			}
			if derr != nil {
				d.err = derr
			} else if rerr != nil && k%4 != 0 {
				d.err = io.ErrUnexpectedEOF
			}
			d.q = d.q[:copy(d.q, d.q[k:])]
		}
		if rerr != nil && d.err == nil {
			d.err = rerr
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// chunkReader returns at most n bytes per Read; with eofWithData the last
// bytes come together with io.EOF.
type chunkReader struct {
	b           []byte
	n           int
	eofWithData bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	if c.eofWithData && len(c.b) == 0 {
		return k, io.EOF
	}
	return k, nil
}

var chunkSizes = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 76, 77, 78, 79, 4095, 4096, 4097, base64Chunk - 1, base64Chunk, base64Chunk + 1}

// readAllSmall reads with a small buffer so Reader's own output
// buffering is crossed too; it returns the bytes and the first error.
func readAllSmall(r io.Reader, step int) ([]byte, error) {
	var out []byte
	buf := make([]byte, step)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

// diff fails unless filter equals filterRef on in (whole and split at
// every position for short inputs) and Reader returns the same bytes and
// the same error value as refReader for every chunking.
func diff(t *testing.T, in []byte, sizes []int) {
	t.Helper()
	prefix := []byte("ab")
	if got, want := filter(bytes.Clone(prefix), in), filterRef(bytes.Clone(prefix), in); !bytes.Equal(got, want) {
		t.Fatalf("filter(%q) = %q, want %q", in, got, want)
	}
	if len(in) <= 256 {
		for cut := 0; cut <= len(in); cut++ {
			got := filter(filter(nil, in[:cut]), in[cut:])
			want := filterRef(filterRef(nil, in[:cut]), in[cut:])
			if !bytes.Equal(got, want) {
				t.Fatalf("filter(%q) split at %d = %q, want %q", in, cut, got, want)
			}
		}
	}
	for _, n := range sizes {
		for _, ewd := range []bool{false, true} {
			for _, step := range []int{1, 3, 32 << 10} {
				if step == 1 && len(in) > 4096 {
					continue
				}
				want, werr := readAllSmall(newRefReader(&chunkReader{in, n, ewd}), step)
				d := NewReader(&chunkReader{in, n, ewd})
				got, gerr := readAllSmall(d, step)
				d.Release()
				if gerr != werr || !bytes.Equal(got, want) {
					t.Fatalf("%.200q chunk %d eofWithData %v step %d: got %d bytes, %v; want %d bytes, %v",
						in, n, ewd, step, len(got), gerr, len(want), werr)
				}
			}
		}
	}
}

func lines76(raw []byte, eol string) []byte {
	enc := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + eol)
		enc = enc[76:]
	}
	b.WriteString(enc + eol)
	return []byte(b.String())
}

func TestReaderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	raw := make([]byte, 60000)
	for i := range raw {
		raw[i] = byte(rng.UintN(256))
	}
	var cases [][]byte
	for _, eol := range []string{"\r\n", "\n", "\r", " \t\r\n", "\r\r\n", ""} {
		for _, n := range []int{0, 1, 2, 3, 56, 57, 58, 60000} {
			cases = append(cases, lines76(raw[:n], eol))
		}
	}
	body := lines76(raw, "\r\n")
	for _, s := range []string{
		"QQ==", "QQ==\r\nQUFB", "QUFB\r\nQQ", "QU!B", "QUFBQ", "QQ=", "Q===", "  QUFB  \r\n", "\r\n",
		"QUFB====", "QQ==\r\n\r\n", "QUFB\x00QUFB", "QU\x0bFB", "QU\x1fFB\r\n", "QUFB\x80", "QQ==\r\n \t\r\n",
		"QUFBQUFB\r\nQUFB\r\n\nQUFB", "QUFB\n\rQUFB", "QUFB\r\n\r\nQQ==  ", "QQ==QUFB", "QQ=\r\n=",
		"\t\t\t\t\t\t\t\t\t", "QUFBQUFBQUFBQUFB\r", string(body[:len(body)-5]), string(body[:4097]) + "!",
	} {
		cases = append(cases, []byte(s))
	}
	for _, c := range cases {
		diff(t, c, chunkSizes)
	}
	// A flaw at each offset of the first lines of a long body.
	for i := 0; i < 160; i++ {
		for _, bad := range []byte{' ', '\t', '\r', '\n', '=', '!', 0} {
			c := bytes.Clone(body[:1000])
			c[i] = bad
			diff(t, c, []int{1, 7, 77, 4096})
		}
	}
}

// FuzzReaderDifferential holds Reader and filter to the reference on any
// input; the first byte picks the chunk size.
func FuzzReaderDifferential(f *testing.F) {
	f.Add(byte(7), []byte("QUFB\r\nQkJC \t\r\nQw==\r\n"))
	f.Add(byte(76), lines76([]byte(strings.Repeat("sendguard", 40)), "\r\n"))
	f.Add(byte(1), []byte("QQ==\r\nQUFB"))
	f.Add(byte(3), []byte("QUFB\x00QU\rFB\n\nQQ="))
	f.Fuzz(func(t *testing.T, n byte, in []byte) {
		diff(t, in, []int{int(n)%100 + 1, len(in) + 1})
	})
}

// BenchmarkAB decodes 200 KB and 4 MiB bodies of 76-character CRLF lines
// with Reader (new) and refReader (old, the per-line filter), and times
// the two filters alone on the same bytes and on one 32 KiB chunk. Alternate whole runs of the
// test binary for A/B figures.
func BenchmarkAB(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []struct {
		name string
		n    int
	}{{"200KB", 200 << 10}, {"4MiB", 4 << 20}} {
		raw := make([]byte, size.n*3/4)
		for i := range raw {
			raw[i] = byte(rng.UintN(256))
		}
		in := lines76(raw, "\r\n")
		buf := make([]byte, 32<<10)
		ref := newRefReader(nil)
		b.Run(size.name+"/reader/old", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				ref.r, ref.q, ref.out, ref.padded, ref.err = bytes.NewReader(in), ref.q[:0], nil, false, nil
				if _, err := io.CopyBuffer(io.Discard, ref, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/reader/new", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				d := NewReader(bytes.NewReader(in))
				if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil {
					b.Fatal(err)
				}
				d.Release()
			}
		})
		q := make([]byte, 0, base64Chunk+4)
		chunk := in[:base64Chunk]
		for _, f := range []struct {
			name string
			fn   func(q, in []byte) []byte
		}{{"old", filterRef}, {"new", filter}} {
			b.Run(size.name+"/filter/"+f.name, func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					for c := in; len(c) > 0; {
						k := min(len(c), base64Chunk)
						q = f.fn(q[:0], c[:k])
						c = c[k:]
					}
				}
			})
			// One chunk again and again: cache-hot, as in Reader, where
			// the chunk was just read.
			b.Run(size.name+"/filter32K/"+f.name, func(b *testing.B) {
				b.SetBytes(int64(len(chunk)))
				for b.Loop() {
					q = f.fn(q[:0], chunk)
				}
			})
		}
	}
}
