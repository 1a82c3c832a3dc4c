package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/sendguard/sendguard/internal/testpdf"
)

// class is what the embedded default policy does with a corpus message.
type class int

const (
	classPlain   class = iota // no attachment (or internal only): deliver
	classEncrypt              // external recipient with an Office/PDF/CSV attachment: encrypt
	classHold                 // external recipient and personal data: hold_review
	numClasses
)

func (c class) String() string { return [...]string{"plain", "encrypt", "hold"}[c] }

// wantAction is the default policy's first action for the class.
func (c class) wantAction() string { return [...]string{"deliver", "encrypt", "hold_review"}[c] }

// delivered reports whether the class reaches the next hop.
func (c class) delivered() bool { return c != classHold }

// item is one generated message: its file holds the header (without
// Message-ID, which each send adds so a message can be sent in several
// phases and still be counted once per send) and body, CRLF throughout.
type item struct {
	idx   int
	class class
	from  string
	rcpts []string
	path  string
	size  int64
	kind  string // what the message carries, for latency by kind: "text", an attachment's extension, "customer csv"
}

type corpusSpec struct {
	n                int
	seed             uint64
	minSize, maxSize int64
	mix              [numClasses]float64 // shares, summing to 1
	attach           string              // one of attachKinds; "" is mixed
}

// attachKinds are the -attach values: mixed draws xlsx 30 %, docx 20 %,
// pdf 30 % and csv 20 %.
var attachKinds = []string{"mixed", "xlsx", "docx", "pdf", "csv"}

// Domains: internal is the generated config's internal domain; the
// external ones look nothing like it or each other (no look-alike hit).
var (
	internalDomain  = "example.com"
	externalDomains = []string{"torihiki.co.jp", "client-a.co.jp", "supplier.jp", "kaikei-office.jp", "butsuryu-center.jp"}
	surnames        = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"}
	givenNames      = []string{"太郎", "花子", "一郎", "美咲", "健太", "由美", "大輔", "直子"}
	subjects        = []string{"お見積りの件", "打ち合わせ日程のご相談", "議事録の送付", "請求書送付のご案内", "納品予定について", "ご提案資料", "月次報告", "発注書の送付について"}
	sentences       = []string{
		"いつも大変お世話になっております。",
		"先日はお忙しいところお時間をいただき、誠にありがとうございました。",
		"標記の件につきまして、資料をお送りいたします。",
		"ご確認のほど、よろしくお願い申し上げます。",
		"納期につきましては、来月末を予定しております。",
		"ご不明な点がございましたら、お気軽にお問い合わせください。",
		"次回の打ち合わせは、来週水曜日の午後を候補としております。",
		"社内で検討のうえ、改めてご連絡いたします。",
		"お手数ですが、内容をご確認いただけますと幸いです。",
		"引き続きどうぞよろしくお願いいたします。",
	}
	products = []string{"ネットワーク機器保守", "クラウド利用料", "業務端末リース", "セキュリティ診断", "開発支援作業", "ライセンス更新"}
)

// genCorpus writes the corpus under dir. The same spec and seed give the
// same bytes.
func genCorpus(dir string, sp corpusSpec) ([]item, error) {
	rng := rand.New(rand.NewPCG(sp.seed, 0x5e7d6a4d))
	items := make([]item, 0, sp.n)
	// Classes are dealt in exact proportions, then shuffled.
	counts := [numClasses]int{}
	left := sp.n
	for c := numClasses - 1; c > 0; c-- {
		counts[c] = int(math.Round(sp.mix[c] * float64(sp.n)))
		left -= counts[c]
	}
	counts[classPlain] = left
	var order []class
	for c := range numClasses {
		for range counts[c] {
			order = append(order, c)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for i, c := range order {
		it, err := genItem(dir, i, c, sp, rng)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// logUniform draws a size between lo and hi, most of them small as in
// real traffic.
func logUniform(rng *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return int64(math.Exp(math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))))
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func genItem(dir string, i int, c class, sp corpusSpec, rng *rand.Rand) (item, error) {
	it := item{idx: i, class: c, path: filepath.Join(dir, fmt.Sprintf("%05d-%s.eml", i, c))}
	sender := fmt.Sprintf("%s.%d@%s", []string{"yamada", "suzuki", "tanaka", "sato", "ito"}[i%5], i%40, internalDomain)
	it.from = sender
	external := func() string { return fmt.Sprintf("contact%d@%s", rng.IntN(50), pick(rng, externalDomains)) }
	internal := func() string { return fmt.Sprintf("staff%d@%s", rng.IntN(200), internalDomain) }
	switch c {
	case classPlain:
		for range 1 + rng.IntN(3) {
			if rng.IntN(2) == 0 {
				it.rcpts = append(it.rcpts, external())
			} else {
				it.rcpts = append(it.rcpts, internal())
			}
		}
	default:
		it.rcpts = []string{external()}
		if rng.IntN(3) == 0 {
			it.rcpts = append(it.rcpts, internal())
		}
	}
	jis := rng.IntN(2) == 0 // ISO-2022-JP body, as many Japanese mailers still send
	subject := pick(rng, subjects)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s <%s>\r\n", encodeWord(pick(rng, surnames)+" "+pick(rng, givenNames), jis), sender)
	var to []string
	for _, r := range it.rcpts {
		to = append(to, "<"+r+">")
	}
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", encodeWord(fmt.Sprintf("%s（No.%d）", subject, 1000+i), jis))
	date := time.Date(2026, 1, 5, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)).Add(time.Duration(i) * time.Minute)
	fmt.Fprintf(&b, "Date: %s\r\nMIME-Version: 1.0\r\nX-Mailer: sendguard-bench\r\n", date.Format(time.RFC1123Z))

	text := bodyText(rng, sender, c, i)
	switch c {
	case classPlain:
		target := logUniform(rng, sp.minSize, min(sp.maxSize, max(sp.minSize*6, 30<<10)))
		// A builder: appending to the string copied it whole each time,
		// which took minutes for a corpus of 200 KB plain mails.
		var t strings.Builder
		t.WriteString(text)
		for int64(t.Len()) < target {
			t.WriteString(pick(rng, sentences) + "\n")
			if rng.IntN(4) == 0 {
				t.WriteString("\n")
			}
		}
		writeTextPart(&b, t.String(), jis, true)
		it.kind = "text"
	case classEncrypt:
		target := logUniform(rng, sp.minSize, sp.maxSize)
		name, ctype, data, err := genAttachment(rng, target, i, sp.attach)
		if err != nil {
			return it, err
		}
		writeMultipart(&b, i, text, jis, name, ctype, data)
		it.kind = strings.TrimPrefix(filepath.Ext(name), ".")
	case classHold:
		if rng.IntN(2) == 0 {
			// a customer list: 50+ records with personal data
			name, data := customerCSV(rng, 60+rng.IntN(100))
			writeMultipart(&b, i, text, jis, name, "text/csv", data)
			it.kind = "customer csv"
		} else {
			text += "\n申請者のマイナンバー（個人番号）は " + myNumber(rng) + " です。\n"
			writeTextPart(&b, text, jis, true)
			it.kind = "text"
		}
	}
	if err := os.WriteFile(it.path, b.Bytes(), 0o600); err != nil {
		return it, err
	}
	it.size = int64(b.Len())
	return it, nil
}

func bodyText(rng *rand.Rand, sender string, c class, i int) string {
	var t strings.Builder
	t.WriteString(pick(rng, []string{"株式会社取引先", "有限会社サプライ", "合同会社クライアント"}) + "\n" + pick(rng, surnames) + "様\n\n")
	for range 3 + rng.IntN(5) {
		t.WriteString(pick(rng, sentences) + "\n")
	}
	if c == classEncrypt {
		t.WriteString("\n添付ファイルをご確認ください。\n")
	}
	fmt.Fprintf(&t, "\n--\n株式会社サンプル 営業部\n%s\n案件番号 %d\n", sender, 70000+i)
	return t.String()
}

// encodeWord is an RFC 2047 B-encoded word in ISO-2022-JP or UTF-8.
func encodeWord(s string, jis bool) string {
	if !jis {
		return mime.BEncoding.Encode("UTF-8", s)
	}
	enc, _, err := transform.String(japanese.ISO2022JP.NewEncoder(), s)
	if err != nil {
		return mime.BEncoding.Encode("UTF-8", s)
	}
	return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(enc)) + "?="
}

// writeTextPart writes a text body: ISO-2022-JP in 7bit, or UTF-8 in
// base64. top says it is the whole message body (header fields follow).
func writeTextPart(b *bytes.Buffer, text string, jis, top bool) {
	text = strings.ReplaceAll(text, "\n", "\r\n")
	if jis {
		enc, _, err := transform.String(japanese.ISO2022JP.NewEncoder(), text)
		if err == nil {
			b.WriteString("Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
			b.WriteString(enc)
			if !strings.HasSuffix(enc, "\r\n") {
				b.WriteString("\r\n")
			}
			return
		}
	}
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeBase64(b, []byte(text))
}

func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
}

func writeMultipart(b *bytes.Buffer, i int, text string, jis bool, name, ctype string, data []byte) {
	boundary := fmt.Sprintf("----=_Part_%d_bench", i)
	fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	fmt.Fprintf(b, "--%s\r\n", boundary)
	writeTextPart(b, text, jis, false)
	fmt.Fprintf(b, "--%s\r\n", boundary)
	fn := mime.BEncoding.Encode("UTF-8", name)
	fmt.Fprintf(b, "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, fn, fn)
	writeBase64(b, data)
	fmt.Fprintf(b, "--%s--\r\n", boundary)
}

// genAttachment makes a business file of about size bytes (before base64):
// an order sheet as .xlsx, a quotation as .docx, a PDF, or a CSV export.
// Office files and PDFs reach large sizes through an embedded picture
// (incompressible bytes), as real ones do.
func genAttachment(rng *rand.Rand, size int64, i int, kind string) (name, ctype string, data []byte, err error) {
	draw := rng.IntN(10)
	switch kind {
	case "xlsx":
		draw = 0
	case "docx":
		draw = 3
	case "pdf":
		draw = 5
	case "csv":
		draw = 8
	}
	switch draw {
	case 0, 1, 2:
		data, err = orderXLSX(rng, size)
		return fmt.Sprintf("注文明細_%d.xlsx", i), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, err
	case 3, 4:
		data, err = quoteDOCX(rng, size)
		return fmt.Sprintf("御見積書_%d.docx", i), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", data, err
	case 5, 6, 7:
		return fmt.Sprintf("資料_%d.pdf", i), "application/pdf", reportPDF(rng, size, i), nil
	default:
		data = orderCSV(rng, size, rng.IntN(2) == 0)
		return fmt.Sprintf("売上集計_%d.csv", i), "text/csv", data, nil
	}
}

// orderRows are order lines without personal data.
func orderRow(rng *rand.Rand, n int) []string {
	qty := 1 + rng.IntN(50)
	price := (1 + rng.IntN(300)) * 1000
	return []string{fmt.Sprintf("P-%05d", n), pick(rng, products), fmt.Sprint(qty), fmt.Sprint(price), fmt.Sprint(qty * price)}
}

var orderHeader = []string{"商品コード", "品名", "数量", "単価", "金額"}

func orderCSV(rng *rand.Rand, size int64, sjis bool) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(orderHeader, ",") + "\r\n")
	for n := 0; int64(b.Len()) < size*2/3 || n < 3; n++ { // Shift_JIS is about 2/3 of UTF-8 here
		b.WriteString(strings.Join(orderRow(rng, n), ",") + "\r\n")
	}
	if !sjis {
		return append([]byte("\xef\xbb\xbf"), b.Bytes()...)
	}
	out, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), b.Bytes())
	if err != nil {
		return b.Bytes()
	}
	return out
}

func customerCSV(rng *rand.Rand, rows int) (string, []byte) {
	var b strings.Builder
	b.WriteString("氏名,住所,電話番号,メールアドレス\r\n")
	for n := range rows {
		fmt.Fprintf(&b, "%s %s,東京都港区芝公園%d-%d-%d,03-%04d-%04d,customer%d@mail.example.jp\r\n",
			pick(rng, surnames), pick(rng, givenNames), 1+rng.IntN(4), 1+rng.IntN(20), 1+rng.IntN(30), rng.IntN(10000), rng.IntN(10000), n)
	}
	return "顧客リスト.csv", []byte(b.String())
}

// myNumber is a valid 12-digit My Number (check digit per the
// Individual Number Act's ordinance) written in 4-4-4 groups.
func myNumber(rng *rand.Rand) string {
	var d [12]int
	for k := range 11 {
		d[k] = rng.IntN(10)
	}
	sum := 0
	for n := 1; n <= 11; n++ {
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += d[11-n] * q
	}
	if r := sum % 11; r <= 1 {
		d[11] = 0
	} else {
		d[11] = 11 - r
	}
	var s strings.Builder
	for k, v := range d {
		if k == 4 || k == 8 {
			s.WriteByte(' ')
		}
		s.WriteByte(byte('0' + v))
	}
	return s.String()
}

// picture is incompressible filler standing for an embedded image.
func picture(rng *rand.Rand, n int64) []byte {
	b := make([]byte, max(n, 0))
	for k := 0; k+8 <= len(b); k += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[k+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writeZip writes an OOXML package from name → content; names listed in
// stored are stored without compression (pictures).
func writeZip(files [][2]string, stored map[string][]byte) ([]byte, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, f[1]); err != nil {
			return nil, err
		}
	}
	for name, data := range stored {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	err := zw.Close()
	return b.Bytes(), err
}

const (
	relsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>`
	ctypesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="%s" ContentType="%s"/>%s</Types>`
)

func orderXLSX(rng *rand.Rand, size int64) ([]byte, error) {
	rows := int(min(max(size/400, 5), 4000))
	var sh strings.Builder
	sh.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	cols := "ABCDE"
	for r := 0; r <= rows; r++ {
		cells := orderHeader
		if r > 0 {
			cells = orderRow(rng, r)
		}
		fmt.Fprintf(&sh, `<row r="%d">`, r+1)
		for c, v := range cells {
			if r > 0 && c >= 2 {
				fmt.Fprintf(&sh, `<c r="%c%d"><v>%s</v></c>`, cols[c], r+1, v)
			} else {
				fmt.Fprintf(&sh, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, cols[c], r+1, xmlEscape(v))
			}
		}
		sh.WriteString(`</row>`)
	}
	sh.WriteString(`</sheetData></worksheet>`)
	files := [][2]string{
		{"[Content_Types].xml", fmt.Sprintf(ctypesXML, "/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)},
		{"_rels/.rels", fmt.Sprintf(relsXML, "xl/workbook.xml")},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="注文明細" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sh.String()},
	}
	return packWithPicture(rng, files, "xl/media/image1.png", size)
}

func quoteDOCX(rng *rand.Rand, size int64) ([]byte, error) {
	var d strings.Builder
	d.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	para := func(s string) { fmt.Fprintf(&d, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, xmlEscape(s)) }
	para("御見積書")
	for range int(min(max(size/300, 5), 2000)) {
		para(pick(rng, sentences))
		row := orderRow(rng, rng.IntN(99999))
		para(strings.Join(row, "　"))
	}
	d.WriteString(`</w:body></w:document>`)
	files := [][2]string{
		{"[Content_Types].xml", fmt.Sprintf(ctypesXML, "/word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "")},
		{"_rels/.rels", fmt.Sprintf(relsXML, "word/document.xml")},
		{"word/document.xml", d.String()},
	}
	return packWithPicture(rng, files, "word/media/image1.png", size)
}

// packWithPicture zips files, then adds a picture that brings the package
// to about size bytes when the text alone is smaller.
func packWithPicture(rng *rand.Rand, files [][2]string, picName string, size int64) ([]byte, error) {
	base, err := writeZip(files, nil)
	if err != nil || int64(len(base))+1024 >= size {
		return base, err
	}
	return writeZip(files, map[string][]byte{picName: picture(rng, size-int64(len(base))-200)})
}

// reportPDF is a one-page PDF with a text line and, for size, an image
// XObject of incompressible gray pixels (testpdf.WithImage).
func reportPDF(rng *rand.Rand, size int64, i int) []byte {
	text := fmt.Sprintf("Monthly report No. %d - sales summary and delivery schedule", 1000+i)
	if size < 4096 {
		return testpdf.WithContent([]byte(fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", text)), "")
	}
	side := int64(math.Sqrt(float64(max(size-1200, 1))))
	return testpdf.WithImage(text, picture(rng, side*side))
}

// openItem returns the message with a Message-ID for this send prepended.
func openItem(it item, msgID string) (io.ReadCloser, error) {
	f, err := os.Open(it.path)
	if err != nil {
		return nil, err
	}
	hdr := strings.NewReader("Message-ID: <" + msgID + ">\r\n")
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(hdr, bufio.NewReaderSize(f, 64<<10)), f}, nil
}
