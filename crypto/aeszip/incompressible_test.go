package aeszip

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestIncompressibleSmallZips: a small Office package (deflated members)
// counts as compressed, a zip of stored text does not, and short random
// samples count as compressed once the entropy estimate is corrected for
// their size.
func TestIncompressibleSmallZips(t *testing.T) {
	pack := func(method uint16, text string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"} {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(text))
		}
		zw.Close()
		return b.Bytes()
	}
	x := uint32(1)
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
		return b
	}
	// Deflated XML of varied numbers: little left for a second deflate.
	var xml strings.Builder
	for i := range 110 {
		xml.WriteString("<w:p><w:r><w:t>")
		xml.WriteString(strings.Repeat(string(rune('0'+i*7%10)), i%5+1))
		fmt.Fprintf(&xml, "%d", random(4))
		xml.WriteString("</w:t></w:r></w:p>")
	}
	for _, c := range []struct {
		name string
		data []byte
		want bool
	}{
		{"docx", pack(zip.Deflate, xml.String()), true},
		{"zip of stored text", pack(zip.Store, strings.Repeat("御見積金額 ¥1,234,567 税込\n", 100)), false},
		{"random 2 KiB", random(2 << 10), true},
		{"random 5 KiB", random(5 << 10), true},
		{"text", []byte(strings.Repeat("売上集計 2026年 第1四半期,12345,67890\n", 200)), false},
	} {
		if got := incompressible(c.data[:min(len(c.data), sampleSize)]); got != c.want {
			t.Errorf("%s (%d bytes): incompressible = %v, want %v", c.name, len(c.data), got, c.want)
		}
	}
}
