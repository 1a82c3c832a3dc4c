package aeszip_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
)

// Attachment-like samples of an encrypt-class mail, deterministic: the
// gateway's common case is one small file per message, where the fixed
// cost of an entry (key derivation, compressor setup, staging) weighs as
// much as its bytes.

var sampleWords = []string{"御見積書", "注文明細", "株式会社", "東京都港区", "納品予定", "請求書", "ご確認", "よろしくお願いいたします。",
	"quotation", "delivery", "invoice", "P-", "数量", "単価", "金額", "合計", "\r\n"}

// sampleText is n bytes of mail-like Japanese and ASCII text.
func sampleText(n int) []byte {
	var b bytes.Buffer
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteString(sampleWords[x%uint32(len(sampleWords))])
		if x&3 == 0 {
			fmt.Fprintf(&b, "%d", x%100000)
		}
	}
	return b.Bytes()[:n]
}

// sampleCSV is n bytes of an order export.
func sampleCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("商品コード,品名,数量,単価,金額\r\n")
	x := uint32(88172645)
	for i := 0; b.Len() < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		qty, price := 1+x%50, (1+x%300)*1000
		fmt.Fprintf(&b, "P-%05d,%s,%d,%d,%d\r\n", i, sampleWords[x%8], qty, price, qty*price)
	}
	return b.Bytes()[:n]
}

// sampleOffice is an OOXML-like package (a zip of deflated XML parts) of
// about textSize bytes of text, plus a stored incompressible picture of
// pic bytes, as a real .docx or .xlsx with an embedded image.
func sampleOffice(textSize, pic int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", "<w:document><w:body>" + strings.ReplaceAll(string(sampleText(textSize)), "\r\n", "</w:t></w:r></w:p><w:p><w:r><w:t>") + "</w:body></w:document>"},
	}
	for _, p := range parts {
		w, _ := zw.Create(p.name)
		w.Write([]byte(p.body))
	}
	if pic > 0 {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "word/media/image1.png", Method: zip.Store})
		w.Write(binaryData(pic))
	}
	zw.Close()
	return b.Bytes()
}

// entrySamples are the sizes of issue #16's targets: a few-KB text or
// small Office file, and a 200 KB spreadsheet with a picture (stored).
func entrySamples() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"text-4K", sampleText(4 << 10)},
		{"csv-8K", sampleCSV(8 << 10)},
		{"docx-6K", sampleOffice(20<<10, 0)},
		{"xlsx-200K", sampleOffice(40<<10, 190<<10)},
	}
}

// writeOne is one encrypt-class archive: a writer, one entry, Close, into
// a reused buffer (the gateway writes into an in-memory spill buffer).
func writeOne(b testing.TB, dst *bytes.Buffer, data []byte) {
	dst.Reset()
	zw, err := aeszip.NewWriter(dst, aeszip.Options{Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := zw.Add("attachment", time.Time{}, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEntry writes one archive per sample and reports the thread CPU
// per archive and the archive's size (compare old and new builds of this
// benchmark alternately, as ratios). In the cold variants every archive
// starts with the caches flushed by 8 MB of other writes (outside the
// measured CPU), as in a gateway that parses, scans and delivers between
// two encryptions.
func BenchmarkEntry(b *testing.B) {
	evict := make([]byte, 8<<20)
	for _, cold := range []bool{false, true} {
		for _, s := range entrySamples() {
			name := s.name
			if cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) {
				var dst bytes.Buffer
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var cpu time.Duration
				b.SetBytes(int64(len(s.data)))
				for b.Loop() {
					if cold {
						for i := 0; i < len(evict); i += 64 {
							evict[i]++
						}
					}
					t0 := aeszip.ThreadCPU()
					writeOne(b, &dst, s.data)
					cpu += aeszip.ThreadCPU() - t0
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
				b.ReportMetric(float64(dst.Len()), "zip-bytes")
			})
		}
	}
}
