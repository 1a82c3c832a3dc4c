package atrest_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/atrest"
)

func TestReadSeekerRandomAccess(t *testing.T) {
	mk := masterKey(t)
	const chunk = 64
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, chunk, chunk + 1, 5*chunk - 3, 5 * chunk} {
		data := pattern(n)
		file := encrypt(t, mk, chunk, data)
		s, err := atrest.NewReadSeeker(bytes.NewReader(file), int64(len(file)), mk)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if s.Size() != int64(n) {
			t.Fatalf("n=%d: Size %d", n, s.Size())
		}
		all, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("n=%d: sequential read: %v", n, err)
		}
		for range 200 {
			off := rng.IntN(n + 2)
			ln := rng.IntN(3 * chunk)
			if _, err := s.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, ln)
			got, err := io.ReadFull(s, buf)
			want := data[min(off, n):min(off+ln, n)]
			if !bytes.Equal(buf[:got], want) {
				t.Fatalf("n=%d: read %d at %d: got %d bytes, %v", n, ln, off, got, err)
			}
		}
	}
}

func TestReadSeekerRefusesDamage(t *testing.T) {
	mk := masterKey(t)
	const chunk = 64
	data := pattern(4*chunk + 10)
	file := encrypt(t, mk, chunk, data)
	open := func(f []byte) (*atrest.ReadSeeker, error) {
		return atrest.NewReadSeeker(bytes.NewReader(f), int64(len(f)), mk)
	}
	sealed := chunk + 16
	if _, err := open(file[:len(file)-(10+16)]); !errors.Is(err, atrest.ErrTruncated) {
		t.Errorf("truncated at a chunk boundary: %v, want ErrTruncated", err)
	}
	for _, cut := range []int{1, 5, 30} {
		if _, err := open(file[:len(file)-cut]); err == nil {
			t.Errorf("truncated by %d bytes: accepted", cut)
		}
	}
	if _, err := open(append(bytes.Clone(file), file[84:84+sealed]...)); err == nil {
		t.Error("appended chunk accepted")
	}
	bad := bytes.Clone(file)
	bad[84+sealed+3] ^= 1 // second chunk
	s, err := open(bad)
	if err != nil {
		t.Fatalf("damage in chunk 1 must surface on read, not open: %v", err)
	}
	if _, err := s.Seek(chunk+5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(make([]byte, 10)); !errors.Is(err, atrest.ErrTampered) {
		t.Errorf("read of tampered chunk: %v, want ErrTampered", err)
	}
	s.Seek(0, io.SeekStart)
	if got, err := s.Read(make([]byte, chunk)); err != nil || got != chunk {
		t.Errorf("intact chunk 0 unreadable: %d, %v", got, err)
	}
}

// TestServeContentRange serves a stored file with http.ServeContent, as a
// download link does, and checks a range request.
func TestServeContentRange(t *testing.T) {
	mk := masterKey(t)
	data := pattern(300 << 10)
	file := encrypt(t, mk, atrest.DefaultChunkSize, data)
	s, err := atrest.NewReadSeeker(bytes.NewReader(file), int64(len(file)), mk)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/d/x", nil)
	req.Header.Set("Range", "bytes=70000-200000")
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "x.bin", time.Time{}, s)
	if rec.Code != http.StatusPartialContent {
		t.Fatalf("status %d", rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), data[70000:200001]) {
		t.Errorf("range body differs (%d bytes)", rec.Body.Len())
	}
}
