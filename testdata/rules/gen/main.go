// Command gen writes the extraction fixtures in testdata/rules: mails in
// Japanese charsets, a Shift_JIS customer CSV, xlsx/docx/pptx/PDF, zips
// (plain, encrypted, bomb) and broken MIME. All data is synthetic. Output
// is deterministic: run `go run ./testdata/rules/gen` from the module root
// and the files do not change.
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

var fixed = time.Date(2026, 4, 1, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))

func main() {
	out := flag.String("out", "testdata/rules", "output directory")
	flag.Parse()
	files := map[string][]byte{
		"iso2022jp.eml":          iso2022jpMail(),
		"shiftjis.eml":           shiftjisMail(),
		"rfc2231-filename.eml":   rfc2231Mail(),
		"customers-csv-sjis.eml": customersCSVMail(),
		"xlsx-pii.eml":           xlsxMail(),
		"docx.eml":               docxMail(),
		"pdf-ja.eml":             pdfMail(),
		"zip-csv.eml":            zipCSVMail(),
		"zip-encrypted.eml":      zipEncryptedMail(),
		"zip-bomb.eml":           zipBombMail(),
		"mass-cc.eml":            massCcMail(),
		"lookalike.eml":          lookalikeMail(),
		"broken-mime.eml":        brokenMail(),
		"forwarded-message.eml":  forwardedMail(),
		"mixed-attachments.eml":  mixedMail(),
		"labels.eml":             labelsMail(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// ---- synthetic people ----

var (
	surnames = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"}
	given    = []string{"太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔太", "由美"}
	romaji   = []string{"sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe", "yamamoto", "nakamura", "kobayashi", "kato"}
	cities   = []string{"東京都千代田区丸の内", "大阪府大阪市北区梅田", "愛知県名古屋市中村区名駅", "福岡県福岡市博多区博多駅前", "北海道札幌市中央区北五条西"}
)

// myNumber returns a 12-digit My Number with a valid check digit.
func myNumber(seed int) string {
	base := fmt.Sprintf("%011d", (int64(seed)*7919+31337)%100000000000)
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(base[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	cd := 11 - sum%11
	if sum%11 <= 1 {
		cd = 0
	}
	return fmt.Sprintf("%s%d", base, cd)
}

type person struct {
	name, addr, phone, email, mynumber, postal string
}

func people(n int) []person {
	ps := make([]person, n)
	for i := range ps {
		s, g := i%len(surnames), (i/len(surnames)+i)%len(given)
		ps[i] = person{
			name:     surnames[s] + " " + given[g],
			postal:   fmt.Sprintf("%03d-%04d", 100+i%800, (i*37)%10000),
			addr:     fmt.Sprintf("%s%d-%d-%d", cities[i%len(cities)], 1+i%9, 1+i%20, 1+i%30),
			phone:    fmt.Sprintf("090-%04d-%04d", 1000+i, 5000+i*3),
			email:    fmt.Sprintf("%s.%d@mail.example.jp", romaji[s], i+1),
			mynumber: myNumber(i + 1),
		}
	}
	return ps
}

// ---- MIME building ----

type part struct {
	header string // lines without the final blank line, CRLF-separated
	body   []byte // already encoded
}

func header(lines ...string) string { return strings.Join(lines, "\r\n") }

func b64(data []byte) []byte {
	s := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.Bytes()
}

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}

func enc(e encoding.Encoding, s string) []byte {
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		log.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func topHeader(from, to, subject string, extra ...string) string {
	lines := []string{
		"From: " + from,
		"To: " + to,
		"Subject: " + subject,
		"Date: " + fixed.Format(time.RFC1123Z),
		"Message-ID: <" + strings.ReplaceAll(strings.ToLower(subjectID(subject)), " ", "-") + "@example.com>",
		"MIME-Version: 1.0",
	}
	return header(append(lines, extra...)...)
}

func subjectID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "fixture"
	}
	return b.String() + ".fixture"
}

func multipart(top, boundary, subtype string, parts ...part) []byte {
	var b bytes.Buffer
	b.WriteString(top + "\r\n")
	b.WriteString(fmt.Sprintf("Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", subtype, boundary))
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	for _, p := range parts {
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString(p.header + "\r\n\r\n")
		b.Write(p.body)
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}

func textPart(charset, cte string, body []byte) part {
	return part{header: header("Content-Type: text/plain; charset="+charset, "Content-Transfer-Encoding: "+cte), body: body}
}

func attachment(ctype, name string, data []byte) part {
	q := mime.BEncoding.Encode("UTF-8", name)
	return part{
		header: header(
			fmt.Sprintf("Content-Type: %s; name=\"%s\"", ctype, q),
			fmt.Sprintf("Content-Disposition: attachment; filename*=UTF-8''%s", pctEncode([]byte(name))),
			"Content-Transfer-Encoding: base64"),
		body: b64(data),
	}
}

func pctEncode(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "%%%02X", c)
		}
	}
	return s.String()
}

func jisWord(s string) string {
	return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(enc(japanese.ISO2022JP, s)) + "?="
}

// ---- mails ----

func iso2022jpMail() []byte {
	body := "山田様\n\nお世話になっております。\nご依頼の件、マイナンバー 8470 8026 9628 にて登録しました。\n" +
		"連絡先: 03-1234-5678\n住所: 東京都港区芝公園4-2-8\n\n社外秘\n"
	top := topHeader("=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.com>", "partner@partner.co.jp",
		jisWord("登録完了のご連絡"),
		"Content-Type: text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit")
	return append([]byte(top+"\r\n\r\n"), crlf(string(enc(japanese.ISO2022JP, body)))...)
}

func shiftjisMail() []byte {
	text := "各位\n\n①本日の会議資料を送付します。\n㈱サンプル商事 経理部\nクレジットカード: 4539 1488 0343 6467\n"
	html := "<html><head><style>p{color:red}</style><script>var secret='DROPPED';</script></head>" +
		"<body><p>①本日の会議資料&amp;議事録</p><table><tr><td>氏名</td><td>電話</td></tr>" +
		"<tr><td>佐藤 太郎</td><td>090-1111-2222</td></tr></table></body></html>"
	top := topHeader("keiri@example.com", "all@example.com", "=?Shift_JIS?B?"+base64.StdEncoding.EncodeToString(enc(japanese.ShiftJIS, "会議資料"))+"?=")
	return multipart(top, "sjis-alt-boundary", "alternative",
		textPart("Shift_JIS", "8bit", crlf(string(enc(japanese.ShiftJIS, text)))),
		part{header: header("Content-Type: text/html; charset=CP932", "Content-Transfer-Encoding: base64"),
			body: b64(enc(japanese.ShiftJIS, html))},
	)
}

func rfc2231Mail() []byte {
	// filename*0*/filename*1* in ISO-2022-JP, split inside the escape
	// sequences on purpose.
	jis := enc(japanese.ISO2022JP, "見積書_2026年度.txt")
	enc0 := "ISO-2022-JP''" + pctEncode(jis[:9])
	enc1 := pctEncode(jis[9:])
	sjisName := enc(japanese.ShiftJIS, "請求書.txt")
	top := topHeader("sales@example.com", "buyer@partner.co.jp", "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("見積書の送付"))+"?=")
	return multipart(top, "rfc2231-boundary", "mixed",
		textPart("UTF-8", "8bit", crlf("見積書を添付します。\n")),
		part{header: header("Content-Type: text/plain; charset=UTF-8",
			"Content-Disposition: attachment;\r\n filename*0*="+enc0+";\r\n filename*1*="+enc1,
			"Content-Transfer-Encoding: base64"), body: b64([]byte("見積金額: 1,200,000円\n担当: 鈴木 花子\n"))},
		part{header: header("Content-Type: text/plain; charset=Shift_JIS",
			"Content-Disposition: attachment; filename=\""+string(sjisName)+"\"",
			"Content-Transfer-Encoding: base64"), body: b64(enc(japanese.ShiftJIS, "請求金額: 300,000円\n"))},
		part{header: header("Content-Type: application/octet-stream; name=\""+jisWord("注文書.txt")+"\"",
			"Content-Transfer-Encoding: base64"), body: b64([]byte("注文番号 A-1001\n"))},
	)
}

func customersCSV(n int) string {
	var b strings.Builder
	b.WriteString("氏名,郵便番号,住所,電話,メール,マイナンバー\n")
	for _, p := range people(n) {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", p.name, p.postal, p.addr, p.phone, p.email, p.mynumber)
	}
	return b.String()
}

func customersCSVMail() []byte {
	csv := strings.ReplaceAll(customersCSV(60), "\n", "\r\n")
	top := topHeader("eigyo@example.com", "agency@partner.co.jp", "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("顧客リスト"))+"?=")
	return multipart(top, "csv-boundary", "mixed",
		textPart("ISO-2022-JP", "7bit", crlf(string(enc(japanese.ISO2022JP, "顧客リストを送ります。\n")))),
		attachment("text/csv", "顧客リスト.csv", enc(japanese.ShiftJIS, csv)),
	)
}

func xlsxFile() []byte {
	f := excelize.NewFile()
	must(f.SetDocProps(&excelize.DocProperties{Created: "2026-04-01T00:00:00Z", Modified: "2026-04-01T00:00:00Z", Creator: "sendguard"}))
	must(f.SetSheetName("Sheet1", "顧客一覧"))
	ps := people(55)
	must(f.SetSheetRow("顧客一覧", "A1", &[]any{"氏名", "住所", "電話", "メール"}))
	for i, p := range ps {
		must(f.SetSheetRow("顧客一覧", fmt.Sprintf("A%d", i+2), &[]any{p.name, p.addr, p.phone, p.email}))
	}
	_, err := f.NewSheet("番号")
	must(err)
	must(f.SetSheetRow("番号", "A1", &[]any{"氏名", "個人番号", "金額"}))
	for i, p := range ps[:5] {
		must(f.SetSheetRow("番号", fmt.Sprintf("A%d", i+2), &[]any{p.name, p.mynumber, 1000 * (i + 1)}))
	}
	// a cell far to the right, to check column alignment is bounded
	must(f.SetCellValue("番号", "Z7", "備考: 社外秘"))
	var b bytes.Buffer
	must(f.Write(&b))
	return b.Bytes()
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func xlsxMail() []byte {
	top := topHeader("jinji@example.com", "payroll@partner.co.jp", "xlsx")
	return multipart(top, "xlsx-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("Please find the list attached.\n")),
		attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "社員名簿.xlsx", xlsxFile()),
	)
}

// zipFiles writes a zip with fixed timestamps and UTF-8 names.
func zipFiles(entries ...[2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: fixed})
		must(err)
		_, err = w.Write([]byte(e[1]))
		must(err)
	}
	must(zw.Close())
	return b.Bytes()
}

const wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func wPara(runs ...string) string {
	var b strings.Builder
	b.WriteString("<w:p>")
	for _, r := range runs {
		b.WriteString(`<w:r><w:t xml:space="preserve">` + r + `</w:t></w:r>`)
	}
	b.WriteString("</w:p>")
	return b.String()
}

func docxFile() []byte {
	return zipFiles(
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/><Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>`},
		[2]string{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		[2]string{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/></Relationships>`},
		[2]string{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + wNS + `><w:body>` +
			wPara("契約書") +
			wPara("甲: ", "株式会社サンプル", " 代表 高橋 一郎") +
			wPara("個人番号: ", "551234087637") +
			`<w:tbl><w:tr><w:tc>` + wPara("口座") + `</w:tc><w:tc>` + wPara("普通 1234567") + `</w:tc></w:tr></w:tbl>` +
			`<w:p><w:del><w:r><w:delText>削除された電話 03-9999-0000</w:delText></w:r></w:del></w:p>` +
			`<w:sectPr/></w:body></w:document>`},
		[2]string{"word/header1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr ` + wNS + `>` + wPara("社外秘") + `</w:hdr>`},
		[2]string{"word/footnotes.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:footnotes ` + wNS + `><w:footnote w:id="1">` + wPara("脚注: 連絡先 taro@example.net") + `</w:footnote></w:footnotes>`},
		[2]string{"word/comments.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments ` + wNS + `><w:comment w:id="0" w:author="A">` + wPara("コメント: 電話 090-1234-5678 に確認") + `</w:comment></w:comments>`},
	)
}

func docxMail() []byte {
	top := topHeader("houmu@example.com", "legal@partner.co.jp", "docx")
	return multipart(top, "docx-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("Contract attached.\n")),
		attachment("application/msword", "契約書.docx", docxFile()),
	)
}

func pptxFile() []byte {
	aNS := `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`
	slide := func(text string) string {
		return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:sld ` + aNS + `><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>` + text + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
	}
	return zipFiles(
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>`},
		[2]string{"ppt/presentation.xml", `<?xml version="1.0" encoding="UTF-8"?><p:presentation ` + aNS + `/>`},
		[2]string{"ppt/slides/slide10.xml", slide("スライド10: 売上目標")},
		[2]string{"ppt/slides/slide2.xml", slide("スライド2: 担当 渡辺 陽子")},
		[2]string{"ppt/notesSlides/notesSlide2.xml", slide("ノート: 090-2222-3333")},
	)
}

// pdfFile hand-builds a PDF whose Japanese text uses a Type0 font with
// Identity-H encoding and a ToUnicode CMap, plus an ASCII line in Helvetica.
func pdfFile(ja string, encrypt bool) []byte {
	runes := []rune(ja)
	cid := map[rune]int{}
	var order []rune
	var codes strings.Builder
	for _, r := range runes {
		if _, ok := cid[r]; !ok {
			cid[r] = len(cid) + 1
			order = append(order, r)
		}
		fmt.Fprintf(&codes, "%04X", cid[r])
	}
	var cmap strings.Builder
	cmap.WriteString("begincmap\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	fmt.Fprintf(&cmap, "%d beginbfchar\n", len(order))
	for _, r := range order {
		u := enc(unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), string(r))
		fmt.Fprintf(&cmap, "<%04X> <%X>\n", cid[r], u)
	}
	cmap.WriteString("endbfchar\nendcmap\n")
	content := "BT /F2 12 Tf 72 740 Td (Customer record: confidential) Tj ET\n" +
		"BT /F1 12 Tf 72 720 Td <" + codes.String() + "> Tj ET\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R /F2 9 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Font /Subtype /Type0 /BaseFont /KozMinPr6N-Regular /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /KozMinPr6N-Regular /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 1000 >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", cmap.Len(), cmap.String()),
		"<< /Type /FontDescriptor /FontName /KozMinPr6N-Regular /Flags 4 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	if encrypt {
		objs = append(objs, "<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "+
			"/O <"+strings.Repeat("5A", 32)+"> /U <"+strings.Repeat("A5", 32)+"> >>")
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	trailer := fmt.Sprintf("<< /Size %d /Root 1 0 R", len(objs)+1)
	if encrypt {
		trailer += fmt.Sprintf(" /Encrypt %d 0 R /ID [<%s> <%s>]", len(objs), strings.Repeat("01", 16), strings.Repeat("01", 16))
	}
	fmt.Fprintf(&b, "trailer\n%s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xref)
	return b.Bytes()
}

func pdfMail() []byte {
	top := topHeader("soumu@example.com", "hr@partner.co.jp", "pdf")
	return multipart(top, "pdf-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("PDF attached.\n")),
		attachment("application/pdf", "住民票.pdf", pdfFile("氏名 中村 美咲 個人番号 551234087637 住所 福岡県福岡市", false)),
	)
}

func zipCSVMail() []byte {
	z := zipFiles(
		[2]string{"data/顧客.csv", customersCSV(12)},
		[2]string{"readme.txt", "see data/\n"},
	)
	top := topHeader("eigyo@example.com", "agency@partner.co.jp", "zip with csv")
	return multipart(top, "zip-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("zip attached\n")),
		attachment("application/zip", "customers.zip", z),
	)
}

// encryptedZip has one ZipCrypto entry (flag bit 0) and one WinZip AES
// entry (method 99 with its 0x9901 extra field); the ciphertext is filler,
// only the structure matters to a scanner.
func encryptedZip() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	filler := bytes.Repeat([]byte{0x5a, 0xc3, 0x11, 0x7e}, 64)
	zc := &zip.FileHeader{Name: "secret.csv", Method: zip.Store, Flags: 0x1 | 0x800, Modified: fixed,
		CompressedSize64: uint64(len(filler)), UncompressedSize64: uint64(len(filler) - 12), CRC32: 0x12345678}
	w, err := zw.CreateRaw(zc)
	must(err)
	_, _ = w.Write(filler)
	aes := &zip.FileHeader{Name: "給与.xlsx", Method: 99, Flags: 0x1 | 0x800, Modified: fixed,
		CompressedSize64: uint64(len(filler)), UncompressedSize64: uint64(len(filler) - 28),
		Extra: []byte{0x01, 0x99, 0x07, 0x00, 0x02, 0x00, 'A', 'E', 0x03, 0x08, 0x00}}
	w, err = zw.CreateRaw(aes)
	must(err)
	_, _ = w.Write(filler)
	must(zw.Close())
	return b.Bytes()
}

func zipEncryptedMail() []byte {
	top := topHeader("keiri@example.com", "tax@partner.co.jp", "encrypted zip")
	return multipart(top, "enc-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("password follows in another mail\n")),
		attachment("application/zip", "給与明細.zip", encryptedZip()),
	)
}

// bombZip holds 64 MiB of zeros deflated to about 64 KiB (ratio ~1000:1).
func bombZip() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) })
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "report.csv", Method: zip.Deflate, Modified: fixed})
	must(err)
	zero := make([]byte, 1<<20)
	for range 64 {
		_, err := w.Write(zero)
		must(err)
	}
	must(zw.Close())
	return b.Bytes()
}

func zipBombMail() []byte {
	top := topHeader("attacker@example.com", "victim@partner.co.jp", "zip bomb")
	return multipart(top, "bomb-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("open me\n")),
		attachment("application/zip", "report.zip", bombZip()),
	)
}

func massCcMail() []byte {
	var cc []string
	for i := range 30 {
		cc = append(cc, fmt.Sprintf("guest%02d@customer%02d.example.net", i+1, i%12+1))
	}
	top := topHeader("event@example.com", "event-team@example.com", "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("セミナーのご案内"))+"?=",
		"Cc: "+strings.Join(cc, ",\r\n "),
		"Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit")
	return append([]byte(top+"\r\n\r\n"), crlf("皆様\n\nセミナーのご案内です。\n")...)
}

func lookalikeMail() []byte {
	top := topHeader("sales@example.com", "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("山本"))+"?= <yamamoto@exarnple.com>, buyer@partner.co.jp",
		"Re: invoice", "Cc: finance@examp1e.com, boss@example.com",
		"Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit")
	return append([]byte(top+"\r\n\r\n"), crlf("振込先口座を変更しました。\n")...)
}

func brokenMail() []byte {
	var b bytes.Buffer
	b.WriteString(topHeader("broken@example.com", "someone@partner.co.jp", "broken",
		"this line has no colon",
		"Content-Type: multipart/mixed; boundary=\"broken-boundary\"") + "\r\n\r\n")
	b.WriteString("--broken-boundary\r\nContent-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.Write(enc(japanese.ShiftJIS, "不明な文字コード: 電話 03-5555-6666\r\n"))
	b.WriteString("\r\n--broken-boundary\r\nContent-Type: text/plain; charset=UTF-8; name=corrupt.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	good := base64.StdEncoding.EncodeToString([]byte("壊れたbase64の中身 4929812345678005\n"))
	b.WriteString(good[:20] + "!!**\r\n" + good[20:] + "\r\n")
	b.WriteString("\r\n--broken-boundary\r\nContent-Type: text/plain; charset=UTF-8; name=odd.txt\r\nContent-Transfer-Encoding: x-gzip64\r\n\r\n")
	b.WriteString("raw text under an unknown encoding\r\n")
	b.WriteString("\r\n--broken-boundary\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.WriteString("=E6=9C=80=E5=BE=8C=E3=81=AE=E9=83=A8=E5=88=86 =ZZ bad escape=\r\n and truncated\r\n")
	// no final boundary: the message just ends
	return b.Bytes()
}

func forwardedMail() []byte {
	inner := multipart(topHeader("customer@partner.co.jp", "support@example.com", jisWord("問い合わせ")),
		"inner-boundary", "mixed",
		textPart("ISO-2022-JP", "7bit", crlf(string(enc(japanese.ISO2022JP, "電話番号は 080-1111-2222 です。\n")))),
		attachment("application/zip", "明細.zip", zipFiles([2]string{"明細.txt", "口座 普通 7654321\n"})),
	)
	top := topHeader("support@example.com", "vendor@partner.co.jp", "Fwd: inquiry")
	return multipart(top, "fwd-boundary", "mixed",
		textPart("UTF-8", "7bit", crlf("Forwarding.\n")),
		part{header: header("Content-Type: message/rfc822", "Content-Disposition: inline"), body: inner},
	)
}

func mixedMail() []byte {
	utf16csv := append([]byte{0xFF, 0xFE}, enc(unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "氏名\t電話\r\n田中 健太\t03-1111-2222\r\n伊藤 由美\t06-3333-4444\r\n加藤 翔太\t052-555-6666\r\n")...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 48)...)
	exe[0x3c] = 0x40
	exe = append(exe, []byte("PE\x00\x00\x4c\x01\x01\x00")...)
	exe = append(exe, make([]byte, 256)...)
	top := topHeader("misc@example.com", "misc@partner.co.jp", "mixed")
	return multipart(top, "mixed-boundary", "mixed",
		textPart("EUC-JP", "8bit", crlf(string(enc(japanese.EUCJP, "本文はEUC-JPです。郵便番号 100-0005\n")))),
		attachment("application/octet-stream", "一覧.tsv", utf16csv),
		attachment("application/octet-stream", "memo.txt", enc(japanese.EUCJP, "メモ: 運転免許証番号 123456789012\n")),
		attachment("text/html", "page.html", []byte(`<html><head><meta charset="Shift_JIS"><script>alert("x")</script></head><body><p>`+string(enc(japanese.ShiftJIS, "ページ本文 &lt;重要&gt;"))+`</p></body></html>`)),
		attachment("application/json", "data.json", []byte(`{"name":"小林 花子","phone":"03-7777-8888","memo":"\u6a5f\u5bc6"}`)),
		attachment("application/octet-stream", "setup.exe", exe),
		attachment("application/octet-stream", "slides.pptx", pptxFile()),
		attachment("application/pdf", "locked.pdf", pdfFile("秘密", true)),
		attachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "protected.docx", encryptedOOXML()),
	)
}

// encryptedOOXML builds what Office writes for a password-protected
// document: a CDFV2 (OLE compound file, version 3) holding the streams
// EncryptionInfo and EncryptedPackage. The stream contents are filler;
// both are 4 KiB so they live in regular sectors (no mini stream).
func encryptedOOXML() []byte {
	const sector = 512
	const (
		freeSect = 0xFFFFFFFF
		endChain = 0xFFFFFFFE
		fatSect  = 0xFFFFFFFD
		noStream = 0xFFFFFFFF
	)
	le32 := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le16 := func(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
	// sectors: 0 FAT, 1 directory, 2-9 EncryptionInfo, 10-17 EncryptedPackage
	hdr := make([]byte, sector)
	copy(hdr, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le16(hdr[24:], 0x003E)
	le16(hdr[26:], 3)
	le16(hdr[28:], 0xFFFE)
	le16(hdr[30:], 9)
	le16(hdr[32:], 6)
	le32(hdr[44:], 1)          // FAT sectors
	le32(hdr[48:], 1)          // first directory sector
	le32(hdr[56:], 4096)       // mini stream cutoff
	le32(hdr[60:], endChain)   // first mini FAT sector
	le32(hdr[68:], endChain)   // first DIFAT sector
	for i := 0; i < 109; i++ { // DIFAT in the header
		le32(hdr[76+4*i:], freeSect)
	}
	le32(hdr[76:], 0)
	fat := make([]byte, sector)
	for i := 0; i < sector/4; i++ {
		le32(fat[4*i:], freeSect)
	}
	le32(fat[0:], fatSect)
	le32(fat[4:], endChain)
	for _, start := range []int{2, 10} {
		for i := start; i < start+7; i++ {
			le32(fat[4*i:], uint32(i+1))
		}
		le32(fat[4*(start+7):], endChain)
	}
	dir := make([]byte, sector)
	entry := func(i int, name string, typ byte, child, right uint32, start uint32, size uint32) {
		e := dir[128*i : 128*(i+1)]
		u := enc(unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), name)
		copy(e, u)
		le16(e[64:], uint16(len(u)+2))
		e[66], e[67] = typ, 1 // black
		le32(e[68:], noStream)
		le32(e[72:], right)
		le32(e[76:], child)
		le32(e[116:], start)
		le32(e[120:], size)
	}
	entry(0, "Root Entry", 5, 1, noStream, endChain, 0)
	entry(1, "EncryptionInfo", 2, noStream, 2, 2, 4096)
	entry(2, "EncryptedPackage", 2, noStream, noStream, 10, 4096)
	for i := 3; i < 4; i++ {
		e := dir[128*i:]
		le32(e[68:], noStream)
		le32(e[72:], noStream)
		le32(e[76:], noStream)
	}
	var b bytes.Buffer
	b.Write(hdr)
	b.Write(fat)
	b.Write(dir)
	info := make([]byte, 4096)
	copy(info, []byte{0x04, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x00}) // agile encryption version 4.4
	copy(info[8:], "<?xml version=\"1.0\"?><encryption/>")
	b.Write(info)
	b.Write(bytes.Repeat([]byte{0x3c, 0xa7, 0x51, 0x0e}, 1024))
	return b.Bytes()
}

// labelsMail carries confidentiality labels only where people write them
// outside the body: the Subject (ISO-2022-JP), an attachment's name, a
// workbook's title and sheet name, and a zip member's CP932 folder name.
// The body's own 機密 is the signature's disclaimer, which is no label.
func labelsMail() []byte {
	f := excelize.NewFile()
	must(f.SetDocProps(&excelize.DocProperties{Created: "2026-04-01T00:00:00Z", Modified: "2026-04-01T00:00:00Z",
		Creator: "sendguard", Title: "関係者外秘 価格改定案"}))
	must(f.SetSheetName("Sheet1", "取扱注意"))
	must(f.SetSheetRow("取扱注意", "A1", &[]any{"品番", "現行単価", "改定単価"}))
	must(f.SetSheetRow("取扱注意", "A2", &[]any{"A-100", 1200, 1350}))
	var xb bytes.Buffer
	must(f.Write(&xb))

	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: string(enc(japanese.ShiftJIS, "極秘/名簿.txt")), Method: zip.Deflate,
		Modified: fixed, NonUTF8: true})
	must(err)
	_, err = w.Write([]byte("山田\n鈴木\n"))
	must(err)
	must(zw.Close())

	body := "お世話になっております。来期の価格表をお送りします。\n\n--\n株式会社サンプル 営業部 佐藤\n" +
		"本メールには機密情報が含まれている場合があります。誤って受信された場合は破棄してください。\n"
	top := topHeader("sato@example.com", "buyer@partner.co.jp", jisWord("【社外秘】来期価格表の件"))
	return multipart(top, "labels-boundary", "mixed",
		textPart("ISO-2022-JP", "7bit", crlf(string(enc(japanese.ISO2022JP, body)))),
		attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "【社外秘】価格表.xlsx", xb.Bytes()),
		attachment("application/zip", "archive.zip", zb.Bytes()),
	)
}
