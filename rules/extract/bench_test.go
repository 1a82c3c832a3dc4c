package extract

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"
)

// typicalMail is about 100 KB: a Japanese text and HTML body and the usual
// office attachments (CSV in Shift_JIS, xlsx, docx, PDF, an image).
func typicalMail(tb testing.TB) []byte {
	tb.Helper()
	text := strings.Repeat("お世話になっております。資料を送付いたします。ご確認のほどよろしくお願いいたします。\n", 40)
	html := "<html><body>" + strings.Repeat("<p>お世話になっております。<b>資料</b>を送付いたします。</p><table><tr><td>担当</td><td>山田</td></tr></table>\n", 60) + "</body></html>"
	var csv strings.Builder
	csv.WriteString("氏名,住所,電話,メール\n")
	for i := range 200 {
		csv.WriteString(surnamesT[i%len(surnamesT)] + " " + givenT[i%len(givenT)] + ",東京都千代田区丸の内1-1-1,090-1111-2222,user@mail.example.jp\n")
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), digits(35<<10)...)
	return buildMail(
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"+text,
		"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"+html,
		attachPart("顧客.csv", "text/csv", mustEncode(tb, japanese.ShiftJIS, csv.String())),
		attachPart("社員名簿.xlsx", "application/octet-stream", fixtureAttachment(tb, "xlsx-pii.eml", "社員名簿.xlsx")),
		attachPart("契約書.docx", "application/octet-stream", fixtureAttachment(tb, "docx.eml", "契約書.docx")),
		attachPart("住民票.pdf", "application/pdf", fixtureAttachment(tb, "pdf-ja.eml", "住民票.pdf")),
		attachPart("logo.png", "image/png", png),
	)
}

func benchWalk(b *testing.B, data []byte, lim Limits) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var text int
		_, err := Walk(context.Background(), bytes.NewReader(data), lim, func(p *Part) error {
			text += len(p.Text)
			return nil
		})
		if err != nil || text == 0 {
			b.Fatal(err, text)
		}
	}
}

// benchCopy moves the bytes through io.Copy's buffer (the reader hides
// WriteTo, which would hand io.Discard the whole slice without a copy).
func benchCopy(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, onlyReader{bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTypicalMail: extraction of a ~100 KB mail against a plain copy
// of the same bytes.
func BenchmarkTypicalMail(b *testing.B) {
	data := typicalMail(b)
	b.Logf("mail %d bytes", len(data))
	b.Run("walk", func(b *testing.B) { benchWalk(b, data, DefaultLimits()) })
	b.Run("copy", func(b *testing.B) { benchCopy(b, data) })
	b.Run("gomessage", func(b *testing.B) { benchGoMessage(b, data) })
}

// benchGoMessage is the parsing floor: go-message reads every part and
// decodes its transfer encoding and charset, extracting nothing.
func benchGoMessage(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := message.Read(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		err = e.Walk(func(_ []int, p *message.Entity, err error) error {
			if err != nil {
				return err
			}
			if p.MultipartReader() == nil {
				_, err = io.Copy(io.Discard, p.Body)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkXLSX10MB: a mail carrying a 10 MB workbook (two sheets, ~280k
// rows), read completely; against a plain copy and against excelize reading
// the same workbook (OpenReader + GetRows on every sheet).
func BenchmarkXLSX10MB(b *testing.B) {
	xlsx := bigXLSX(b, 280_000)
	data := buildMail(attachPart("big.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx))
	b.Logf("xlsx %d bytes, mail %d bytes", len(xlsx), len(data))
	lim := DefaultLimits()
	lim.MaxPartText = 256 << 20
	b.Run("walk", func(b *testing.B) { benchWalk(b, data, lim) })
	b.Run("copy", func(b *testing.B) { benchCopy(b, data) })
	b.Run("excelize", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			f, err := excelize.OpenReader(bytes.NewReader(xlsx), excelize.Options{UnzipSizeLimit: 1 << 30, UnzipXMLSizeLimit: 256 << 20})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, s := range f.GetSheetList() {
				rows, err := f.GetRows(s)
				if err != nil {
					b.Fatal(err)
				}
				n += len(rows)
			}
			_ = f.Close()
			if n != 280_000 {
				b.Fatal(n)
			}
		}
	})
}
