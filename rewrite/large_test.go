package rewrite

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
	"github.com/sendguard/sendguard/crypto/aeszip"
)

// prngReader yields n pseudo-random (incompressible) bytes without
// allocating.
type prngReader struct {
	r *rand.ChaCha8
	n int64
}

func newPRNG(n int64) *prngReader {
	return &prngReader{r: rand.NewChaCha8([32]byte{7}), n: n}
}

func (p *prngReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	n, _ := p.r.Read(b)
	p.n -= int64(n)
	return n, nil
}

// largeMessage streams a multipart message whose attachment is size
// pseudo-random bytes, base64-encoded in 76-character lines by a pipe.
func largeMessage(size int64) io.Reader {
	head := "From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\n" +
		"Content-Type: text/plain\r\n\r\nsee attached\r\n--big\r\n" +
		"Content-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeBase64(pw, newPRNG(size), "\r\n"))
	}()
	return io.MultiReader(strings.NewReader(head), pr, strings.NewReader("\r\n--big--\r\n"))
}

// TestEncryptLargeBoundedMemory rewrites a 50 MB attachment (5 MB with
// -short or -race) and checks that the bytes allocated stay far below the
// message size, then that the zip holds the original bytes.
func TestEncryptLargeBoundedMemory(t *testing.T) {
	size := int64(50 << 20)
	if testing.Short() || raceEnabled {
		size = 5 << 20
	}
	out, err := os.CreateTemp(t.TempDir(), "out-*.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := EncryptAttachments(out, largeMessage(size), testOptions())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("attachment %d MiB: %.2f MiB allocated in total, %d objects; zip %d bytes",
		size>>20, float64(alloc)/(1<<20), after.Mallocs-before.Mallocs, res.ZipSize)
	if limit := uint64(4 << 20); alloc > limit {
		t.Errorf("allocated %d bytes for a %d-byte attachment (limit %d)", alloc, size, limit)
	}
	if len(res.Files) != 1 || res.Files[0].Size != size {
		t.Fatalf("result %+v", res)
	}
	want := sha256.New()
	if _, err := io.Copy(want, newPRNG(size)); err != nil {
		t.Fatal(err)
	}
	// Decode the zip part to a file and decrypt it.
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	zf := decodeZipPart(t, bufio.NewReader(out))
	defer zf.Close()
	st, _ := zf.Stat()
	zr, err := zip.NewReader(zf, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if _, err := aeszip.Decrypt(zr.File[0], testPassword, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("zip entry differs from the original attachment")
	}
}

// decodeZipPart streams the base64 zip part of a message into a temp file.
func decodeZipPart(t *testing.T, r io.Reader) *os.File {
	t.Helper()
	mr, err := mail.CreateReader(r)
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no zip part: %v", err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "application/zip") {
			continue
		}
		f, err := os.CreateTemp(t.TempDir(), "z-*.zip")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, p.Body); err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// TestBccLargeBodyStreams checks that Bcc streams the body: a 50 MB body
// (5 MB with -short or -race) costs a bounded, size-independent allocation.
func TestBccLargeBodyStreams(t *testing.T) {
	size := int64(50 << 20)
	if testing.Short() || raceEnabled {
		size = 5 << 20
	}
	head := "To: a@partner.co.jp, b@example.com\r\nSubject: big\r\n\r\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := sha256.New()
	res, err := Bcc(h, io.MultiReader(strings.NewReader(head), newPRNG(size)), isExternal)
	runtime.ReadMemStats(&after)
	if err != nil || len(res.Moved) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	want := sha256.New()
	io.WriteString(want, "To: b@example.com\r\nSubject: big\r\n\r\n")
	io.Copy(want, newPRNG(size))
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Error("output differs")
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("body %d MiB: %.2f MiB allocated", size>>20, float64(alloc)/(1<<20))
	if alloc > 1<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}
