package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkerRun is what a checker did with one input fed in given chunks.
type checkerRun struct {
	out    []byte
	writes []string // n and error of each Write
	close  string
}

func errString(err error) string {
	var de *dataError
	if errors.As(err, &de) {
		return fmt.Sprintf("%+v", *de)
	}
	return fmt.Sprint(err)
}

func feed(w io.WriteCloser, out *bytes.Buffer, in []byte, chunks []int) checkerRun {
	var r checkerRun
	for _, n := range chunks {
		k, err := w.Write(in[:n])
		in = in[n:]
		r.writes = append(r.writes, fmt.Sprint(k, " ", errString(err)))
	}
	r.close = errString(w.Close())
	r.out = out.Bytes()
	return r
}

// cutChunks splits n bytes into pieces from rng: mostly small, sometimes
// the rest at once.
func cutChunks(rng *rand.Rand, n int) []int {
	var c []int
	for n > 0 {
		k := n
		switch rng.IntN(4) {
		case 0:
			k = 1 + rng.IntN(3)
		case 1:
			k = 1 + rng.IntN(100)
		case 2:
			k = 1 + rng.IntN(5000)
		}
		k = min(k, n)
		c = append(c, k)
		n -= k
	}
	return c
}

// compareCheckers fails when the checker and the byte-at-a-time reference
// differ in output, in any Write's result or in Close's.
func compareCheckers(t *testing.T, in []byte, chunks []int, normalize bool, maxLine int) {
	t.Helper()
	var gotOut, wantOut bytes.Buffer
	d := newDataChecker(&gotOut, normalize, maxLine)
	got := feed(d, &gotOut, in, chunks)
	d.release()
	want := feed(newRefChecker(&wantOut, normalize, maxLine), &wantOut, in, chunks)
	if !bytes.Equal(got.out, want.out) || fmt.Sprint(got.writes) != fmt.Sprint(want.writes) || got.close != want.close {
		t.Fatalf("normalize %v, max line %d, chunks %v, input %q:\ngot  %q %v close %s\nwant %q %v close %s",
			normalize, maxLine, chunks, in, got.out, got.writes, got.close, want.out, want.writes, want.close)
	}
}

var mailPieces = []string{"\r\n", "\r\n", "\r\n", "\r", "\n", "\r\n\r\n", "Received: from x", "received:y", "RECEIVED:",
	"Subject: a", " ", "\t", "x", "QUJD", ".", "\r\r\n", "\n\r"}

// randomMail builds an input from pieces, long runs and Received fields.
func randomMail(rng *rand.Rand) []byte {
	var b bytes.Buffer
	if rng.IntN(4) == 0 {
		for range 45 + rng.IntN(10) {
			b.WriteString("Received: from h\r\n")
		}
	}
	for range rng.IntN(200) {
		if rng.IntN(5) == 0 {
			b.WriteString(strings.Repeat("y", rng.IntN(1200)))
			continue
		}
		b.WriteString(mailPieces[rng.IntN(len(mailPieces))])
	}
	return b.Bytes()
}

func TestDataCheckerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	lines := []int{0, 1, 2, 3, 4, 20, 80, 1000}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		in := randomMail(rng)
		compareCheckers(t, in, cutChunks(rng, len(in)), rng.IntN(2) == 0, lines[rng.IntN(len(lines))])
	}
	// The header size limit, reached at any point of a chunk.
	hdr := []byte("X: " + strings.Repeat("aaaaaaa\r\n ", maxHeaderBytes/10) + "b\r\n")
	for i := range 6 {
		in := append(append([]byte(nil), hdr[:len(hdr)-i*3]...), "\r\n\r\nbody\r\n"...)
		compareCheckers(t, in, cutChunks(rng, len(in)), i%2 == 0, 1000)
	}
	// A 1 MiB body of base64 lines, clean and with bare line ends.
	body := benchBody(1 << 20)
	compareCheckers(t, body, cutChunks(rng, len(body)), false, 1000)
	for _, nl := range []string{"\n", "\r"} {
		in := bytes.ReplaceAll(body, []byte("\r\n"), []byte(nl))
		compareCheckers(t, in, cutChunks(rng, len(in)), true, 1000)
		compareCheckers(t, in, cutChunks(rng, len(in)), false, 1000)
	}
}

// FuzzDataCheckerMatchesReference: any input, chunking, mode and line
// limit give the reference's output and results.
func FuzzDataCheckerMatchesReference(f *testing.F) {
	f.Add([]byte("A: b\r\n\r\nbody\r\n"), uint64(1), uint16(1000), false)
	f.Add([]byte("A: b\n\nx\ry\n.\r\n"), uint64(2), uint16(0), true)
	f.Add([]byte("Received: a\rReceived: b\r\rxx\r\n\r"), uint64(3), uint16(4), true)
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, maxLine uint16, normalize bool) {
		rng := rand.New(rand.NewPCG(seed, 0))
		compareCheckers(t, in, cutChunks(rng, len(in)), normalize, int(maxLine%1100))
	})
}

// benchBody is a header and n bytes of base64 lines, as an attachment.
func benchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n" +
		"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 3)[:76] + "\r\n"
	for b.Len() < n {
		b.WriteString(line)
	}
	return b.Bytes()
}

func benchmarkChecker(b *testing.B, w func(io.Writer) io.Writer) {
	body := benchBody(1 << 20)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		d := w(io.Discard)
		for p := body; len(p) > 0; {
			n := min(len(p), 32<<10) // bufpool.Copy's reads
			if _, err := d.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
	}
}

// BenchmarkDataChecker: a 1 MiB message in 32 KiB writes; /ref is the
// byte-at-a-time checker it replaced.
func BenchmarkDataChecker(b *testing.B) {
	b.Run("runs", func(b *testing.B) {
		benchmarkChecker(b, func(w io.Writer) io.Writer { return newDataChecker(w, false, 1000) })
	})
	b.Run("ref", func(b *testing.B) {
		benchmarkChecker(b, func(w io.Writer) io.Writer { return newRefChecker(w, false, 1000) })
	})
}
