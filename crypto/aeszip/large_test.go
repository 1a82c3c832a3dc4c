package aeszip_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// textReader yields n bytes of deterministic CSV-like text (deflate shrinks
// it about 1.7:1) without allocating.
type textReader struct {
	n     int64
	state uint64
}

const textAlphabet = "0123456789,,,,    \n山田太郎東京都千代田区株式会社abcdefghijklmnopqrstuvwxyz"

func (r *textReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		r.state ^= r.state << 13
		r.state ^= r.state >> 7
		r.state ^= r.state << 17
		// Skewed choice: mostly the first few symbols.
		k := r.state % 64
		k = k * k / 64
		p[i] = textAlphabet[int(k)%len(textAlphabet)]
	}
	r.n -= int64(len(p))
	return len(p), nil
}

func newTextReader(n int64) *textReader { return &textReader{n: n, state: 88172645463325252} }

// TestLargeAttachment writes a 200 MB entry, checks that the writer's
// allocations stay far below the entry size, and has 7zz, bsdtar and our
// reader decrypt it to the same SHA-256.
func TestLargeAttachment(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB attachment skipped in -short mode")
	}
	size := int64(200 << 20)
	if raceEnabled {
		size = 2 << 20
	}
	want := sha256.New()
	io.Copy(want, newTextReader(size))
	wantSum := want.Sum(nil)

	dir := t.TempDir()
	archive := filepath.Join(dir, "big.zip")
	out, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	zw, err := aeszip.NewWriter(out, aeszip.Options{Password: testPassword, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Add("大容量データ.csv", time.Now(), newTextReader(size)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	st, _ := out.Stat()
	t.Logf("%d MiB entry: %v (%.0f MB/s), archive %d MiB, allocated %d KiB in total, HeapInuse %d KiB",
		size>>20, elapsed.Round(time.Millisecond), float64(size)/1e6/elapsed.Seconds(), st.Size()>>20, allocated>>10, after.HeapInuse>>10)
	// Everything the writer allocated, including deflate state and
	// buffers, bounds its peak heap: it must not scale with the entry.
	if allocated > 8<<20 {
		t.Errorf("writer allocated %d MiB for a %d MiB entry", allocated>>20, size>>20)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	check := func(name string, r io.Reader, wait func() error) {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if wait != nil {
			if err := wait(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if !bytes.Equal(h.Sum(nil), wantSum) {
			t.Errorf("%s: SHA-256 of the extracted data differs", name)
		}
	}
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := aeszip.Open(zr.File[0], testPassword)
	if err != nil {
		t.Fatal(err)
	}
	check("aeszip.Open", rc, nil)
	rc.Close()

	for _, x := range []struct {
		tool string
		args []string
	}{
		{"7zz", []string{"x", "-so", "-p" + testPassword, archive}},
		{"bsdtar", []string{"-x", "-O", "-f", archive, "--passphrase", testPassword}},
	} {
		t.Run(x.tool, func(t *testing.T) {
			cmd := exec.Command(tool(t, x.tool), x.args...)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			check(x.tool, stdout, func() error {
				if err := cmd.Wait(); err != nil {
					t.Logf("stderr: %s", stderr.Bytes())
					return err
				}
				return nil
			})
		})
	}
}
