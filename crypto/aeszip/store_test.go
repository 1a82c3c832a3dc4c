package aeszip_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// actualMethod is the compression method inside an entry's encryption:
// the last field of the AE-x extra (0x9901), or the header's method for
// ZipCrypto.
func actualMethod(t *testing.T, f *zip.File) uint16 {
	t.Helper()
	if f.Method != 99 {
		return f.Method
	}
	for e := f.Extra; len(e) >= 4; {
		id, n := binary.LittleEndian.Uint16(e), int(binary.LittleEndian.Uint16(e[2:]))
		if len(e) < 4+n {
			break
		}
		if id == 0x9901 && n == 7 {
			return binary.LittleEndian.Uint16(e[4+5:])
		}
		e = e[4+n:]
	}
	t.Fatalf("%s: no AES extra field", f.Name)
	return 0
}

// TestIncompressibleStored: data that does not compress (here random
// bytes, as in JPEGs or zip-based Office files) is stored inside the
// encryption, text is deflated, and both read back, in memory and past
// the in-memory limit (temp file), with both encryptions.
func TestIncompressibleStored(t *testing.T) {
	entries := []struct {
		name   string
		data   []byte
		method uint16
	}{
		{"photo.jpg", binaryData(200 << 10), zip.Store},
		{"big-photo.jpg", binaryData(3 << 20), zip.Store},
		{"minutes.txt", bytes.Repeat([]byte("議事録 第3回定例会議 出席者: 営業部 5名\n"), 5000), zip.Deflate},
		{"tiny.bin", binaryData(500), zip.Deflate}, // too small to judge
	}
	for _, enc := range []aeszip.Encryption{aeszip.AES256, aeszip.ZipCrypto} {
		dir := t.TempDir()
		var buf bytes.Buffer
		zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, Encryption: enc, TempDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := zw.Add(e.name, time.Now(), bytes.NewReader(e.data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: temp files left: %v", enc, left)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range zr.File {
			e := entries[i]
			if m := actualMethod(t, f); m != e.method {
				t.Errorf("%s %s: method %d, want %d", enc, e.name, m, e.method)
			}
			var out bytes.Buffer
			if _, err := aeszip.Decrypt(f, testPassword, &out); err != nil {
				t.Fatalf("%s %s: %v", enc, e.name, err)
			}
			if !bytes.Equal(out.Bytes(), e.data) {
				t.Errorf("%s %s: content differs", enc, e.name)
			}
			if e.method == zip.Store && f.CompressedSize64 > uint64(len(e.data))+64 {
				t.Errorf("%s %s: stored entry of %d bytes takes %d", enc, e.name, len(e.data), f.CompressedSize64)
			}
		}
	}
}

// TestWriterReuseAfterReadError: a failed read leaves the Writer usable
// (pooled compressor reset), and the next entry is intact.
func TestWriterReuseAfterReadError(t *testing.T) {
	var buf bytes.Buffer
	zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	text := bytes.Repeat([]byte("売上集計 2026年 第1四半期\n"), 3000)
	failing := io.MultiReader(bytes.NewReader(text[:40000]), iotestErr{})
	if _, err := zw.Add("broken.txt", time.Now(), failing); err == nil {
		t.Fatal("read error not reported")
	}
	if _, err := zw.Add("ok.txt", time.Now(), bytes.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d entries, want 1", len(zr.File))
	}
	var out bytes.Buffer
	if _, err := aeszip.Decrypt(zr.File[0], testPassword, &out); err != nil || !bytes.Equal(out.Bytes(), text) {
		t.Fatalf("entry after a failed one: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
