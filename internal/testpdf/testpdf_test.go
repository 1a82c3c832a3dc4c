package testpdf

import (
	"bytes"
	"compress/zlib"
	"hash/adler32"
	"io"
	"testing"
)

var raceEnabled bool

func TestAdlerCombine(t *testing.T) {
	x, y := []byte("(A) Tj (B) Tj "), bytes.Repeat([]byte("xyz"), 40000)
	if got, want := AdlerCombine(adler32.Checksum(x), adler32.Checksum(y), int64(len(y))), adler32.Checksum(append(bytes.Clone(x), y...)); got != want {
		t.Fatalf("combine = %08x, want %08x", got, want)
	}
}

// The bomb is a valid zlib stream (checksum included) of the stated size.
func TestBombInflatesToOneGiB(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("inflates 1 GiB (half a minute under the race detector)")
	}
	b, err := Bomb()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 2<<20 {
		t.Errorf("bomb is %d bytes", len(b))
	}
	i := bytes.Index(b, []byte("stream\n")) + len("stream\n")
	j := bytes.LastIndex(b, []byte("\nendstream"))
	zr, err := zlib.NewReader(bytes.NewReader(b[i:j]))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != BombInflated || n < 1<<30-1<<20 {
		t.Fatalf("inflated %d bytes (want %d), err %v", n, BombInflated, err)
	}
}
