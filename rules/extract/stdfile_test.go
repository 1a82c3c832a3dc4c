package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/b64"
)

// pictureXLSX is a workbook of about size bytes, most of it an
// incompressible picture, as sendguard-bench's order sheets.
func pictureXLSX(tb testing.TB, size int) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"[Content_Types].xml":      `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"xl/workbook.xml":          `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="注文" sheetId="1"/></sheets></workbook>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>商品コード</t></is></c></row></sheetData></worksheet>`,
	} {
		w, _ := z.Create(name)
		io.WriteString(w, body)
	}
	w, _ := z.CreateHeader(&zip.FileHeader{Name: "xl/media/image1.png", Method: zip.Store})
	rng := rand.New(rand.NewPCG(1, 2))
	pic := make([]byte, size)
	for i := range pic {
		pic[i] = byte(rng.UintN(256))
	}
	w.Write(pic)
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// The hash of a named attachment is that of its decoded bytes, and the
// message says the list is whole.
func TestAttachmentHash(t *testing.T) {
	data := pictureXLSX(t, 50<<10)
	mail := buildMail("Content-Type: text/plain\r\n\r\nhi", attachPart("a.xlsx", xlsxType, data))
	m, parts := walkBytes(t, mail, DefaultLimits())
	want := sha256.Sum256(data)
	var got []string
	for _, p := range parts {
		if p.Attachment != nil && p.Attachment.SHA256 != "" {
			got = append(got, p.Attachment.Name+" "+p.Attachment.SHA256)
		}
	}
	if len(got) != 1 || got[0] != "a.xlsx "+hex.EncodeToString(want[:]) || !m.AttachmentsHashed {
		t.Fatalf("hashes %q, whole %v", got, m.AttachmentsHashed)
	}
}

// A file read for random access (Office, zip) is hashed from its copy:
// in memory at once (small), on a goroutine while it is parsed (from
// asyncHashMin on), or, spilled to disk, what memory held and then the
// rest as it is copied. Each way the hash is that of the decoded bytes,
// beside a second file read as a stream.
func TestAttachmentHashSpilled(t *testing.T) {
	csv := []byte(strings.Repeat("品番,数量\r\nA-100,3\r\n", 1000))
	for _, c := range []struct {
		name      string
		size      int
		maxMemory int64
	}{
		{"small in memory", 50 << 10, 0},
		{"large in memory", 3 << 20, 0},
		{"large on disk", 3 << 20, 1 << 20},
		{"disk from the first chunk", 3 << 20, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := pictureXLSX(t, c.size)
			mail := buildMail("Content-Type: text/plain\r\n\r\nhi", attachPart("a.xlsx", xlsxType, data),
				attachPart("b.csv", "text/csv", csv))
			lim := DefaultLimits()
			lim.TempDir = t.TempDir()
			if c.maxMemory > 0 {
				lim.MaxMemory = c.maxMemory
			}
			m, parts := walkBytes(t, mail, lim)
			want := map[string]string{}
			for name, b := range map[string][]byte{"a.xlsx": data, "b.csv": csv} {
				sum := sha256.Sum256(b)
				want[name] = hex.EncodeToString(sum[:])
			}
			got := map[string]string{}
			for _, p := range parts {
				if p.Attachment != nil {
					got[p.Attachment.Name] = p.Attachment.SHA256
				}
			}
			if got["a.xlsx"] != want["a.xlsx"] || got["b.csv"] != want["b.csv"] || !m.AttachmentsHashed {
				t.Fatalf("hashes %v, want %v; whole %v", got, want, m.AttachmentsHashed)
			}
		})
	}
}

// base64Clean: input the strict decoder reads without error gives its
// bytes, and clean input is recognised as such.
func base64Clean(t *testing.T, in []byte) {
	t.Helper()
	d := newBase64Reader(bytes.NewReader(in))
	defer d.release()
	got, _ := io.ReadAll(d)
	if !d.clean() {
		return
	}
	sr := b64.NewReader(bytes.NewReader(in))
	defer sr.Release()
	want, err := io.ReadAll(sr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("clean input %q: lenient %q, strict %q %v", in, got, want, err)
	}
}

func TestBase64Clean(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		raw := make([]byte, rng.IntN(400))
		for j := range raw {
			raw[j] = byte(rng.UintN(256))
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		var b strings.Builder
		for len(enc) > 0 {
			n := min(len(enc), 1+rng.IntN(80))
			b.WriteString(enc[:n])
			enc = enc[n:]
			b.WriteString([]string{"\r\n", "\n", " \r\n", "\t\n", ""}[rng.IntN(5)])
		}
		s := b.String()
		d := newBase64Reader(strings.NewReader(s))
		io.ReadAll(d)
		if !d.clean() {
			t.Fatalf("standard base64 %q not clean", s)
		}
		d.release()
		base64Clean(t, []byte(s))
		// and broken in one place
		k := rng.IntN(len(s) + 1)
		bad := s[:k] + []string{"=", "!", "-", "A", "==", "QQ==", "\r\n=\r\n"}[i%7] + s[k:]
		base64Clean(t, []byte(bad))
	}
}

func FuzzBase64Clean(f *testing.F) {
	f.Add([]byte("QUFB\r\nQQ==\r\n"))
	f.Add([]byte("QQ==\r\r\r\r\r\nQUFB\r\n"))
	f.Add([]byte("QUF B\tQUFB\r\n"))
	f.Fuzz(base64Clean)
}

// BenchmarkAttachmentHash is the walk of a mail with a 200 KB workbook
// without and with hashing the attachment, alternating in one loop (the
// machine is shared), next to SHA-256 alone over the decoded workbook:
// what the hash adds to the inspection, and the floor of that.
func BenchmarkAttachmentHash(b *testing.B) {
	xlsx := pictureXLSX(b, 200<<10)
	mail := buildMail("Content-Type: text/plain; charset=utf-8\r\n\r\nよろしくお願いします。", attachPart("注文明細.xlsx", xlsxType, xlsx))
	defer func() { hashFiles = true }()
	walk := func(on bool) time.Duration {
		hashFiles = on
		t := time.Now()
		m, err := WalkStream(context.Background(), bytes.NewReader(mail), Limits{},
			func(string, bool) io.Writer { return io.Discard }, func(*Part) error { return nil })
		if err != nil || m.AttachmentsHashed != on {
			b.Fatal(err, m.AttachmentsHashed)
		}
		return time.Since(t)
	}
	var off, on, sum time.Duration
	for b.Loop() {
		off += walk(false)
		on += walk(true)
		t := time.Now()
		sha256.Sum256(xlsx)
		sum += time.Since(t)
	}
	n := float64(b.N)
	b.ReportMetric(float64(off)/n/1e3, "walk-us")
	b.ReportMetric(float64(on)/n/1e3, "walk+hash-us")
	b.ReportMetric(float64(on-off)/n/1e3, "added-us")
	b.ReportMetric(float64(sum)/n/1e3, "sha256-us")
	b.ReportMetric(float64(on)/float64(off), "ratio")
}
