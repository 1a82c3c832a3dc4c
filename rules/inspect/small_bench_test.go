package inspect

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// smallMails are few-KB messages to an external recipient with one small
// attachment of the given kind, built as cmd/sendguard-bench's corpus
// builds its encrypt class: an ISO-2022-JP or base64 UTF-8 body, encoded
// From and Subject, the attachment in base64.
func smallMails(tb testing.TB, kind string, n int) []string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(16, uint64(len(kind))))
	sentences := []string{"いつも大変お世話になっております。", "標記の件につきまして、資料をお送りいたします。",
		"ご確認のほど、よろしくお願い申し上げます。", "納期につきましては、来月末を予定しております。",
		"次回の打ち合わせは、来週水曜日の午後を候補としております。"}
	products := []string{"ネットワーク機器保守", "クラウド利用料", "業務端末リース", "セキュリティ診断"}
	row := func(k int) []string {
		q, p := 1+rng.IntN(50), (1+rng.IntN(300))*1000
		return []string{fmt.Sprintf("P-%05d", k), products[rng.IntN(len(products))], fmt.Sprint(q), fmt.Sprint(p), fmt.Sprint(q * p)}
	}
	header := []string{"商品コード", "品名", "数量", "単価", "金額"}
	var out []string
	for i := range n {
		jis := i%2 == 0
		size := 1500 + rng.IntN(7000) // attachment bytes before base64
		var name, ctype string
		var data []byte
		switch kind {
		case "xlsx":
			var sh strings.Builder
			sh.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			for r := 0; r <= max(size/400, 5); r++ {
				cells := header
				if r > 0 {
					cells = row(r)
				}
				fmt.Fprintf(&sh, `<row r="%d">`, r+1)
				for c, v := range cells {
					if r > 0 && c >= 2 {
						fmt.Fprintf(&sh, `<c r="%c%d"><v>%s</v></c>`, "ABCDE"[c], r+1, v)
					} else {
						fmt.Fprintf(&sh, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, "ABCDE"[c], r+1, v)
					}
				}
				sh.WriteString(`</row>`)
			}
			sh.WriteString(`</sheetData></worksheet>`)
			data = benchZip(tb, [][2]string{
				{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
				{"_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
				{"xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="注文明細" sheetId="1" r:id="rId1"/></sheets></workbook>`},
				{"xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
				{"xl/worksheets/sheet1.xml", sh.String()},
			})
			name, ctype = fmt.Sprintf("注文明細_%d.xlsx", i), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		case "docx":
			var d strings.Builder
			d.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
			para := func(s string) { fmt.Fprintf(&d, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, s) }
			para("御見積書")
			for range max(size/300, 5) {
				para(sentences[rng.IntN(len(sentences))])
				para(strings.Join(row(rng.IntN(99999)), "　"))
			}
			d.WriteString(`</w:body></w:document>`)
			data = benchZip(tb, [][2]string{
				{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
				{"_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
				{"word/document.xml", d.String()},
			})
			name, ctype = fmt.Sprintf("御見積書_%d.docx", i), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		case "pdf":
			content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (Monthly report No. %d - sales summary) Tj ET", 1000+i)
			var b bytes.Buffer
			var offs []int
			obj := func(body, stream string) {
				offs = append(offs, b.Len())
				fmt.Fprintf(&b, "%d 0 obj\n%s", len(offs), body)
				if stream != "" {
					b.WriteString("\nstream\n" + stream + "\nendstream")
				}
				b.WriteString("\nendobj\n")
			}
			b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
			obj("<< /Type /Catalog /Pages 2 0 R >>", "")
			obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "")
			obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>", "")
			obj(fmt.Sprintf("<< /Length %d >>", len(content)), content)
			obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", "")
			xref := b.Len()
			fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
			for _, o := range offs {
				fmt.Fprintf(&b, "%010d 00000 n \n", o)
			}
			fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
			data = b.Bytes()
			name, ctype = fmt.Sprintf("資料_%d.pdf", i), "application/pdf"
		case "csv":
			var b bytes.Buffer
			b.WriteString(strings.Join(header, ",") + "\r\n")
			for k := 0; b.Len() < size*2/3 || k < 3; k++ {
				b.WriteString(strings.Join(row(k), ",") + "\r\n")
			}
			data = append([]byte("\xef\xbb\xbf"), b.Bytes()...)
			if jis {
				if sj, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), b.Bytes()); err == nil {
					data = sj
				}
			}
			name, ctype = fmt.Sprintf("売上集計_%d.csv", i), "text/csv"
		default:
			tb.Fatalf("kind %q", kind)
		}
		var m bytes.Buffer
		fmt.Fprintf(&m, "From: %s <yamada.%d@example.com>\r\nTo: <contact%d@torihiki.co.jp>\r\nSubject: %s\r\n",
			benchWord("山本 太郎", jis), i%40, i%50, benchWord(fmt.Sprintf("お見積りの件（No.%d）", 1000+i), jis))
		fmt.Fprintf(&m, "Date: Mon, 05 Jan 2026 09:00:00 +0900\r\nMIME-Version: 1.0\r\nMessage-ID: <%d.bench@example.com>\r\n", i)
		boundary := fmt.Sprintf("----=_Part_%d_bench", i)
		fmt.Fprintf(&m, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", boundary, boundary)
		var text strings.Builder
		text.WriteString("株式会社取引先\n佐藤様\n\n")
		for range 3 + rng.IntN(5) {
			text.WriteString(sentences[rng.IntN(len(sentences))] + "\n")
		}
		fmt.Fprintf(&text, "\n添付ファイルをご確認ください。\n\n--\n株式会社サンプル 営業部\nyamada.%d@example.com\n案件番号 %d\n", i%40, 70000+i)
		body := strings.ReplaceAll(text.String(), "\n", "\r\n")
		if enc, _, err := transform.String(japanese.ISO2022JP.NewEncoder(), body); jis && err == nil {
			m.WriteString("Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + enc)
		} else {
			m.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			benchBase64(&m, []byte(body))
		}
		fn := mime.BEncoding.Encode("UTF-8", name)
		fmt.Fprintf(&m, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary, ctype, fn, fn)
		benchBase64(&m, data)
		fmt.Fprintf(&m, "--%s--\r\n", boundary)
		out = append(out, m.String())
	}
	return out
}

func benchWord(s string, jis bool) string {
	if enc, _, err := transform.String(japanese.ISO2022JP.NewEncoder(), s); jis && err == nil {
		return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(enc)) + "?="
	}
	return mime.BEncoding.Encode("UTF-8", s)
}

func benchBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

func benchZip(tb testing.TB, files [][2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkSmallAttachment is the fixed cost issue #16 is about: the whole
// analysis of a few-KB mail with a small Office, PDF or CSV file to an
// external recipient (the default policy's encrypt class). Without a PDF
// worker in this test binary a PDF is reported unscannable: its case
// measures the reading around the extraction, not the extraction.
func BenchmarkSmallAttachment(b *testing.B) {
	for _, kind := range []string{"xlsx", "docx", "pdf", "csv"} {
		b.Run(kind, func(b *testing.B) {
			mails := smallMails(b, kind, 16)
			in := newTest(b)
			env := Envelope{MailFrom: "yamada.1@example.com", Rcpts: []string{"contact1@torihiki.co.jp"}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := in.Inspect(context.Background(), strings.NewReader(mails[i%len(mails)]), env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The generated mails are what the benchmark claims: the encrypt class,
// with the attachment's text read (a PDF aside, see above).
func TestSmallAttachmentMails(t *testing.T) {
	in := newTest(t)
	env := Envelope{MailFrom: "yamada.1@example.com", Rcpts: []string{"contact1@torihiki.co.jp"}}
	for _, kind := range []string{"xlsx", "docx", "pdf", "csv"} {
		for _, m := range smallMails(t, kind, 4) {
			if len(m) > 14<<10 {
				t.Errorf("%s: mail of %d bytes, want a few KB", kind, len(m))
			}
			res, err := in.Inspect(context.Background(), strings.NewReader(m), env)
			if err != nil {
				t.Fatal(err)
			}
			// without a worker a PDF is unscannable, which the policy holds
			if a := res.Decision.Actions; kind != "pdf" && (len(a) == 0 || a[0] != "encrypt") {
				t.Errorf("%s: actions %v, want encrypt; findings %+v", kind, a, res.Report.Findings)
			}
			if len(res.Report.Attachments) != 1 || kind != "pdf" && res.Report.Attachments[0].Unscannable != "" {
				t.Errorf("%s: attachments %+v", kind, res.Report.Attachments)
			}
		}
	}
}
