package aeszip_test

import (
	"archive/zip"
	"bytes"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// TestStatelessRatio records what the stateless encoder of small entries
// costs in size against level 5 (the staged path's compressor), entry by
// entry, and bounds it. Small Office packages are stored.
func TestStatelessRatio(t *testing.T) {
	for _, s := range []struct {
		name  string
		data  []byte
		limit float64 // largest accepted size / level-5 size
	}{
		{"text-2K", sampleText(2 << 10), 1.1},
		{"text-4K", sampleText(4 << 10), 1.1},
		{"text-10K", sampleText(10 << 10), 1.1},
		{"csv-3K", sampleCSV(3 << 10), 1.15},
		{"csv-8K", sampleCSV(8 << 10), 1.15},
		{"csv-16K", sampleCSV(16 << 10), 1.2},
		{"docx-2K", sampleOffice(3<<10, 0), 1.15},
		{"docx-5K", sampleOffice(20<<10, 0), 1.01},
	} {
		var buf bytes.Buffer
		zw, err := aeszip.NewWriter(&buf, aeszip.Options{Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Add("a", time.Time{}, bytes.NewReader(s.data)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		got := int(zr.File[0].CompressedSize64) - 28 // salt, verifier, code
		var l5 bytes.Buffer
		fw, _ := flate.NewWriter(&l5, 5)
		fw.Write(s.data)
		fw.Close()
		ratio := float64(got) / float64(l5.Len())
		t.Logf("%-8s %6d bytes: level 5 %6d, written %6d (method %d), %+.1f %%",
			s.name, len(s.data), l5.Len(), got, actualMethod(t, zr.File[0]), 100*(ratio-1))
		if ratio > s.limit {
			t.Errorf("%s: %.3f times level 5's size, limit %.2f", s.name, ratio, s.limit)
		}
	}
}
