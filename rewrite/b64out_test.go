package rewrite

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// refWriteBase64 is the encoder writeBase64 replaced: base64.NewEncoder
// behind a writer that breaks lines at 76 characters.
func refWriteBase64(w io.Writer, r io.Reader, eol string) error {
	lw := &refLineWrapper{w: w, eol: []byte(eol)}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	if _, err := io.Copy(enc, r); err != nil {
		return err
	}
	return enc.Close()
}

type refLineWrapper struct {
	w   io.Writer
	eol []byte
	col int
}

func (l *refLineWrapper) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if l.col == 76 {
			if _, err := l.w.Write(l.eol); err != nil {
				return n, err
			}
			l.col = 0
		}
		k := min(76-l.col, len(p))
		m, err := l.w.Write(p[:k])
		n += m
		l.col += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// TestWriteBase64SameAsEncoder: the chunked encoder writes exactly what
// base64.NewEncoder behind a line wrapper wrote, for sizes around group,
// line and chunk boundaries, any read sizes and both line endings.
func TestWriteBase64SameAsEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	full := outSize / 78 * 57 // what fills the output buffer
	sizes := []int{0, 1, 2, 3, 56, 57, 58, 113, 114, 115, full - 1, full, full + 1, 3*full + 20, 1 << 20}
	for range 20 {
		sizes = append(sizes, rng.IntN(200_000))
	}
	for _, n := range sizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, eol := range []string{"\r\n", "\n"} {
			var want bytes.Buffer
			if err := refWriteBase64(&want, bytes.NewReader(data), eol); err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]io.Reader{
				"whole": bytes.NewReader(data),
				"byte":  iotest.OneByteReader(bytes.NewReader(data)),
				"half":  iotest.HalfReader(bytes.NewReader(data)),
			} {
				var got bytes.Buffer
				if err := writeBase64(&got, r, eol); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("size %d, eol %q, %s reads: output differs from the encoder's", n, eol, name)
				}
			}
		}
	}
}

// TestWriteBase64Errors: a read error and a write error both come back.
func TestWriteBase64Errors(t *testing.T) {
	boom := errors.New("boom")
	if err := writeBase64(io.Discard, iotest.ErrReader(boom), "\r\n"); !errors.Is(err, boom) {
		t.Errorf("read error: got %v", err)
	}
	if err := writeBase64(errWriter{boom}, bytes.NewReader(make([]byte, 100)), "\r\n"); !errors.Is(err, boom) {
		t.Errorf("write error: got %v", err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// BenchmarkWriteBase64 encodes a 1 MiB attachment: chunked (new) against
// the encoder behind a line wrapper (old), into a bufio-like buffer.
func BenchmarkWriteBase64(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var out bytes.Buffer
	out.Grow(1 << 21)
	for _, v := range []struct {
		name string
		fn   func(io.Writer, io.Reader, string) error
	}{{"new", writeBase64}, {"old", refWriteBase64}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				out.Reset()
				if err := v.fn(&out, bytes.NewReader(data), "\r\n"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEncodeLine: the 57-byte group encoder writes what the standard one
// does, for every 12-bit value in every position and random groups.
func TestEncodeLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var src [57]byte
	dst, want := make([]byte, 76), make([]byte, 76)
	check := func() {
		encodeLine(dst, src[:])
		base64.StdEncoding.Encode(want, src[:])
		if !bytes.Equal(dst, want) {
			t.Fatalf("%x: %s, want %s", src, dst, want)
		}
	}
	for v := range 1 << 12 {
		for i := 0; i+1 < len(src); i += 3 {
			src[i], src[i+1], src[i+2] = byte(v>>4), byte(v<<4)|byte(v>>8), byte(v)
		}
		check()
	}
	for range 10000 {
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		check()
	}
}

// writeSizes records the size of each write it is given.
type writeSizes struct {
	sizes []int
	bytes.Buffer
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// TestOutBufPassesThroughBufpoolWriter: behind a bufpool writer (what the
// spool's body files use), the rewritten message reaches the file in
// writes larger than that writer's buffer, but the last: the bufio.Writer
// passed them on without copying them into its buffer.
func TestOutBufPassesThroughBufpoolWriter(t *testing.T) {
	msg, err := io.ReadAll(largeMessage(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if _, err := EncryptAttachments(&want, bytes.NewReader(msg), testOptions()); err != nil {
		t.Fatal(err)
	}
	file := &writeSizes{}
	bw := bufpool.Writer(file)
	defer bufpool.PutWriter(bw)
	if _, err := EncryptAttachments(bw, bytes.NewReader(msg), testOptions()); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if file.Len() != want.Len() || len(file.sizes) < 2 {
		t.Fatalf("%d bytes in %d writes, want %d bytes", file.Len(), len(file.sizes), want.Len())
	}
	for i, n := range file.sizes[:len(file.sizes)-1] {
		if n <= bufpool.WriterSize {
			t.Errorf("write %d of %d bytes went through the buffer (sizes %v)", i, n, file.sizes)
		}
	}
}
