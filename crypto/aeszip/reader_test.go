package aeszip_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

const katDir = "../../testdata/crypto/aeszip-kat"

// TestKnownAnswer7zz reads an archive made by
// `7zz a -tzip -mem=AES256 -pFIXEDPASS` (7-Zip 26.02), with stored and
// deflated AE-2 entries, and compares it with the committed plaintext.
func TestKnownAnswer7zz(t *testing.T) {
	zr, err := zip.OpenReader(filepath.Join(katDir, "7zz-aes256.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	plain, err := os.ReadDir(filepath.Join(katDir, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(plain) || len(plain) < 4 {
		t.Fatalf("archive has %d entries, plain dir %d", len(zr.File), len(plain))
	}
	sawDeflate := false
	for _, f := range zr.File {
		name := aeszip.Name(f)
		if !aeszip.IsEncrypted(f) {
			t.Errorf("%s: not reported as encrypted", name)
		}
		want, err := os.ReadFile(filepath.Join(katDir, "plain", name))
		if err != nil {
			t.Errorf("%s: no plaintext: %v", name, err)
			continue
		}
		var got bytes.Buffer
		if _, err := aeszip.Decrypt(f, "FIXEDPASS", &got); err != nil {
			t.Errorf("%s: Decrypt: %v", name, err)
			continue
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: plaintext differs", name)
		}
		if _, err := aeszip.Open(f, "FIXEDPAS"); !errors.Is(err, aeszip.ErrPassword) {
			t.Errorf("%s: wrong password gave %v, want ErrPassword", name, err)
		}
		sawDeflate = sawDeflate || f.CompressedSize64 < f.UncompressedSize64
	}
	if !sawDeflate {
		t.Error("known-answer archive has no deflated entry")
	}
}

// TestRoundTrip reads our own archives back with Open in every mode.
func TestRoundTrip(t *testing.T) {
	for _, opt := range []aeszip.Options{
		{Password: testPassword},
		{Password: testPassword, Names: aeszip.CP932},
		{Password: testPassword, Encryption: aeszip.ZipCrypto},
		{Password: testPassword, Encryption: aeszip.ZipCrypto, Names: aeszip.CP932, Level: 1},
	} {
		t.Run(opt.Encryption.String()+"-"+opt.Names.String(), func(t *testing.T) {
			entries := sampleEntries()
			zr := buildInMemory(t, opt, entries)
			if len(zr.File) != len(entries) {
				t.Fatalf("%d entries, want %d", len(zr.File), len(entries))
			}
			for i, f := range zr.File {
				if got := aeszip.Name(f); got != entries[i].want {
					t.Errorf("entry %d named %q, want %q", i, got, entries[i].want)
				}
				var buf bytes.Buffer
				if _, err := aeszip.Decrypt(f, testPassword, &buf); err != nil {
					t.Fatalf("%s: %v", entries[i].want, err)
				}
				if !bytes.Equal(buf.Bytes(), entries[i].data) {
					t.Errorf("%s: content differs", entries[i].want)
				}
			}
		})
	}
}

func buildInMemory(t *testing.T, opt aeszip.Options, entries []entry) *zip.Reader {
	t.Helper()
	var buf bytes.Buffer
	opt.TempDir = t.TempDir()
	zw, err := aeszip.NewWriter(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := zw.Add(e.name, time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), bytes.NewReader(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func TestWrongPassword(t *testing.T) {
	for _, enc := range []aeszip.Encryption{aeszip.AES256, aeszip.ZipCrypto} {
		zr := buildInMemory(t, aeszip.Options{Password: testPassword, Encryption: enc}, sampleEntries()[:1])
		_, err := aeszip.Decrypt(zr.File[0], "not-the-password", io.Discard)
		// ZipCrypto's one-byte check lets 1 in 256 wrong passwords through
		// to the CRC check, which then fails.
		if !errors.Is(err, aeszip.ErrPassword) && !(enc == aeszip.ZipCrypto && errors.Is(err, aeszip.ErrAuthentication)) {
			t.Errorf("%s: wrong password gave %v", enc, err)
		}
	}
}

// TestTamperDetected flips one byte in each region of an AE-2 entry and in
// a ZipCrypto entry and expects the reader to refuse it.
func TestTamperDetected(t *testing.T) {
	for _, enc := range []aeszip.Encryption{aeszip.AES256, aeszip.ZipCrypto} {
		var buf bytes.Buffer
		zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword, Encryption: enc, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("社外秘 confidential 0123456789\n"), 200)
		if _, err := zw.Add("a.txt", time.Now(), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		archive := buf.Bytes()
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		start, err := zr.File[0].DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		size := int64(zr.File[0].CompressedSize64)
		// Skip salt and verifier (AES) or the encryption header (ZipCrypto),
		// which are covered by the wrong-password test.
		first := int64(18)
		if enc == aeszip.ZipCrypto {
			first = 12
		}
		for _, off := range []int64{first, first + 1, size / 2, size - 11, size - 10, size - 1} {
			bad := bytes.Clone(archive)
			bad[start+off] ^= 0x01
			zr, err := zip.NewReader(bytes.NewReader(bad), int64(len(bad)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = aeszip.Decrypt(zr.File[0], testPassword, io.Discard)
			if !errors.Is(err, aeszip.ErrAuthentication) {
				t.Errorf("%s: byte %d of %d flipped: got %v, want ErrAuthentication", enc, off, size, err)
			}
		}
	}
}

func TestIsEncrypted(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("plain.txt")
	w.Write([]byte("hello"))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if aeszip.IsEncrypted(zr.File[0]) {
		t.Error("plain entry reported as encrypted")
	}
	if _, err := aeszip.Open(zr.File[0], "x"); !errors.Is(err, aeszip.ErrNotEncrypted) {
		t.Errorf("Open(plain) = %v, want ErrNotEncrypted", err)
	}
	zc := buildInMemory(t, aeszip.Options{Password: testPassword, Encryption: aeszip.ZipCrypto}, sampleEntries()[:1])
	if !aeszip.IsEncrypted(zc.File[0]) {
		t.Error("ZipCrypto entry not reported as encrypted")
	}
}

// TestSizeMismatchRefused edits the declared uncompressed size, as a zip
// bomb would, and expects ErrSize rather than unbounded output.
func TestSizeMismatchRefused(t *testing.T) {
	zr := buildInMemory(t, aeszip.Options{Password: testPassword}, sampleEntries()[:1])
	f := zr.File[0]
	for _, size := range []uint64{f.UncompressedSize64 - 1, f.UncompressedSize64 + 1, 0} {
		g := *f
		g.UncompressedSize64 = size
		n, err := aeszip.Decrypt(&g, testPassword, io.Discard)
		if !errors.Is(err, aeszip.ErrSize) {
			t.Errorf("declared %d: got %v, want ErrSize", size, err)
		}
		if uint64(n) > size {
			t.Errorf("declared %d: returned %d bytes", size, n)
		}
	}
}
