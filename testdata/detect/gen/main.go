// Command gen writes the labelled detection corpus in testdata/detect/corpus:
// Japanese business mails (UTF-8, ISO-2022-JP, Shift_JIS; plain, flowed,
// quoted-printable, base64 and HTML bodies; CSV, XLSX and DOCX attachments)
// carrying personal data in every layout a sender produces, and hard
// negatives that look like it. labels.json names, per mail, every detector
// that must report and whether the mail is a hard negative for the
// checksum detectors. All data is synthetic; the seed is fixed, so
// `go run ./testdata/detect/gen` from the module root reproduces the files.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// Label is one mail's truth.
type Label struct {
	File   string   `json:"file"`
	Family string   `json:"family"`
	Layout string   `json:"layout"`
	Expect []string `json:"expect"` // detectors that must report
	// HardNegative marks a mail built to tempt the checksum detectors
	// (order numbers, test cards, cut digit groups, contrary labels).
	HardNegative bool `json:"hard_negative,omitempty"`
	// Counts are the distinct values a detector must find, where a table
	// or list makes every row count (header carried to rows 2..n).
	Counts map[string]int `json:"counts,omitempty"`
	Note   string         `json:"note,omitempty"`
}

const seed = 20261206

var fixed = time.Date(2026, 4, 1, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))

func main() {
	out := flag.String("out", "testdata/detect/corpus", "output directory")
	flag.Parse()
	g := &gen{r: rand.New(rand.NewPCG(seed, seed>>7))}
	g.build()
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, m := range g.mails {
		if err := os.WriteFile(filepath.Join(*out, m.label.File), m.data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	labels := make([]Label, len(g.mails))
	for i, m := range g.mails {
		labels[i] = m.label
	}
	b, err := json.MarshalIndent(labels, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "labels.json"), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

type mail struct {
	label Label
	data  []byte
}

type gen struct {
	r     *rand.Rand
	mails []mail
}

// truth collects the detectors a piece of text carries.
type truth map[string]bool

// countKey marks, inside a truth, how many distinct values a detector must
// find: truth["#mynumber"] is not a detector but a count.
func countKey(d string) string { return "#" + d }

func (t truth) add(ds ...string) truth {
	for _, d := range ds {
		t[d] = true
	}
	return t
}

func (t truth) count(d string, n int) truth {
	t[countKey(d)+fmt.Sprint(n)] = true
	return t
}

func (t truth) counts() map[string]int {
	var m map[string]int
	for k := range t {
		if strings.HasPrefix(k, "#") {
			var d string
			var n int
			i := strings.IndexAny(k, "0123456789")
			d = k[1:i]
			fmt.Sscan(k[i:], &n)
			if m == nil {
				m = map[string]int{}
			}
			m[d] = n
		}
	}
	return m
}

func (t truth) list() []string {
	var out []string
	for d := range t {
		if !strings.HasPrefix(d, "#") {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

// ---- synthetic values ----

func (g *gen) digits(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return b
}

func myNumberCD(d []byte) byte {
	sum := 0
	for i := 0; i < 11; i++ {
		n := 11 - i
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += int(d[i]-'0') * q
	}
	if r := sum % 11; r > 1 {
		return byte('0' + 11 - r)
	}
	return '0'
}

// myNumber returns a valid My Number; its first digit is never 0, as the
// numbers issued are printed.
func (g *gen) myNumber() string {
	d := g.digits(11)
	d[0] = byte('1' + g.r.IntN(9))
	return string(append(d, myNumberCD(d)))
}

// invalid12 returns 12 digits failing the My Number check.
func (g *gen) invalid12() string {
	d := g.digits(11)
	d[0] = byte('1' + g.r.IntN(9))
	cd := myNumberCD(d)
	return string(append(d, '0'+(cd-'0'+1+byte(g.r.IntN(8)))%10))
}

func luhnCD(body []byte) byte {
	sum, double := 0, true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func (g *gen) card() (number, brand string) {
	var prefix string
	n := 16
	switch g.r.IntN(5) {
	case 0, 1:
		prefix, brand = "4", "VISA"
	case 2:
		prefix, brand = fmt.Sprint(51+g.r.IntN(5)), "Mastercard"
	case 3:
		prefix, brand = fmt.Sprint(3528+g.r.IntN(62)), "JCB"
	default:
		prefix, brand, n = g.pick("34", "37"), "American Express", 15
	}
	body := append([]byte(prefix), g.digits(n-1-len(prefix))...)
	return string(append(body, luhnCD(body))), brand
}

func (g *gen) luhnFail16() string {
	body := append([]byte("4"), g.digits(14)...)
	cd := luhnCD(body)
	return string(append(body, '0'+(cd-'0'+1+byte(g.r.IntN(8)))%10))
}

func (g *gen) corporate() string {
	d := g.digits(12)
	sum := 0
	for i := 0; i < 12; i++ {
		n := 12 - i
		q := 1
		if n%2 == 0 {
			q = 2
		}
		sum += int(d[i]-'0') * q
	}
	return string(append([]byte{byte('0' + 9 - sum%9)}, d...))
}

func (g *gen) juminhyo() string {
	d := g.digits(10)
	sum := 0
	for i := 0; i < 10; i++ {
		n := 10 - i
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += int(d[i]-'0') * q
	}
	cd := byte('0')
	if r := sum % 11; r > 1 {
		cd = byte('0' + 11 - r)
	}
	return string(append(d, cd))
}

func (g *gen) insurer() string {
	var body []byte
	if g.chance(0.7) {
		body = fmt.Appendf(nil, "%s%02d%03d", g.pick("01", "06", "31", "32", "33", "34"), 1+g.r.IntN(47), g.r.IntN(1000))
	} else {
		body = fmt.Appendf(nil, "%02d%03d", 1+g.r.IntN(47), g.r.IntN(1000))
	}
	return string(append(body, luhnCD(body)))
}

func (g *gen) letters(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + g.r.IntN(26))
	}
	return string(b)
}

func (g *gen) phone() string {
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("03-%04d-%04d", 1000+g.r.IntN(9000), g.r.IntN(10000))
	case 1:
		return fmt.Sprintf("06-%04d-%04d", 1000+g.r.IntN(9000), g.r.IntN(10000))
	case 2:
		return fmt.Sprintf("045-%03d-%04d", 100+g.r.IntN(900), g.r.IntN(10000))
	}
	return fmt.Sprintf("0%s0-%04d-%04d", g.pick("7", "8", "9"), 1000+g.r.IntN(9000), g.r.IntN(10000))
}

var (
	surnames = []string{"山田", "鈴木", "佐藤", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "山口", "松本", "井上", "木村"}
	given    = []string{"太郎", "花子", "一郎", "美咲", "健太", "由美", "翔太", "直子", "大輔", "恵子", "拓也", "真由美"}
	romaji   = []string{"yamada", "suzuki", "sato", "takahashi", "tanaka", "ito", "watanabe", "nakamura", "kobayashi", "kato", "yoshida", "yamaguchi", "matsumoto", "inoue", "kimura"}
	places   = []string{"東京都千代田区丸の内", "東京都港区芝公園", "大阪府大阪市北区梅田", "神奈川県横浜市西区みなとみらい", "愛知県名古屋市中区栄", "福岡県福岡市博多区博多駅前", "北海道札幌市中央区北一条西", "京都府京都市下京区烏丸通", "宮城県仙台市青葉区中央", "広島県広島市中区基町"}
	banks    = []string{"みずほ銀行", "三菱UFJ銀行", "三井住友銀行", "りそな銀行", "ゆうちょ銀行", "横浜銀行"}
	branches = []string{"本店", "渋谷支店", "新宿支店", "梅田支店", "名古屋支店", "横浜駅前支店"}
	partners = []string{"partner.co.jp", "kaikei-office.jp", "sharoushi.example.net", "client-corp.co.jp", "hoken-agency.jp"}
)

func (g *gen) name() string {
	return surnames[g.r.IntN(len(surnames))] + g.pick(" ", "　", "") + given[g.r.IntN(len(given))]
}

func (g *gen) address() string {
	return fmt.Sprintf("%s%d-%d-%d", places[g.r.IntN(len(places))], 1+g.r.IntN(9), 1+g.r.IntN(20), 1+g.r.IntN(30))
}

func (g *gen) postal() string { return fmt.Sprintf("%03d-%04d", 100+g.r.IntN(800), g.r.IntN(10000)) }

// ---- number formats ----

var dashes = []string{"-", "－", "−", "ー", "–", "‐"}

// group writes digits in groups of sizes, joined by sep.
func group(d string, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, d[:n])
		d = d[n:]
	}
	if d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, sep)
}

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// myNumberForm prints a My Number as people write it.
func (g *gen) myNumberForm(v string) string {
	switch g.r.IntN(7) {
	case 0, 1:
		return v
	case 2:
		return group(v, "-", 4, 4, 4)
	case 3:
		return group(v, " ", 4, 4, 4)
	case 4:
		return fullWidth(group(v, "－", 4, 4, 4))
	case 5:
		return group(v, g.pick(dashes...), 4, 4, 4)
	}
	return fullWidth(v)
}

func (g *gen) cardForm(v string) string {
	if len(v) == 15 {
		return group(v, g.pick(" ", "-"), 4, 6, 5)
	}
	switch g.r.IntN(4) {
	case 0:
		return v
	case 1:
		return group(v, "-", 4, 4, 4, 4)
	case 2:
		return fullWidth(group(v, " ", 4, 4, 4, 4))
	}
	return group(v, " ", 4, 4, 4, 4)
}

// ---- prose ----

func (g *gen) greeting(to string) string {
	return g.pick(to+"様\n\nいつもお世話になっております。\n", to+" 御中\n\nお世話になっております。\n", to+"さん\n\nお疲れさまです。\n", "各位\n\n平素より大変お世話になっております。\n")
}

var fillers = []string{
	"先日はお打ち合わせのお時間をいただき、ありがとうございました。",
	"ご依頼の件につきまして、以下のとおりご連絡いたします。",
	"お手数ですが、内容をご確認のうえご返信いただけますと幸いです。",
	"年末調整の手続きに必要な書類をお送りします。",
	"ご不明な点がございましたら、お気軽にお問い合わせください。",
	"取り急ぎ、ご報告まで。",
	"来週の会議資料も併せて準備しております。",
	"引き続きどうぞよろしくお願いいたします。",
	"本件は今月末までに処理する予定です。",
	"先方からの回答を受け、内容を更新いたしました。",
}

func (g *gen) filler(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(fillers[g.r.IntN(len(fillers))])
		b.WriteString("\n")
	}
	return b.String()
}

// signature returns a signature and what it carries.
func (g *gen) signature(t truth) string {
	nm := g.name()
	dept := g.pick("総務部", "人事部", "経理部", "営業部", "管理本部")
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("\n--\n%s %s\n株式会社サンプル商事\n", dept, nm)
	case 1:
		t.add("jp_phone", "email_address")
		return fmt.Sprintf("\n――――――――――――\n株式会社サンプル商事 %s\n%s\nTEL: %s\nMail: %s@example.com\n", dept, nm, g.phone(), romaji[g.r.IntN(len(romaji))])
	}
	t.add("jp_phone", "email_address", "postal_code", "jp_address")
	return fmt.Sprintf("\n--------------------------------\n株式会社サンプル商事 %s\n%s\n〒%s %s サンプルビル5F\nTEL %s / FAX %s\nE-mail: %s@example.com\n", dept, nm, g.postal(), g.address(), g.phone(), g.phone(), romaji[g.r.IntN(len(romaji))])
}

// ---- the cases ----

func (g *gen) build() {
	g.issueCases()
	for i := 0; i < 14; i++ {
		g.myNumberProse(i)
	}
	for i := 0; i < 8; i++ {
		g.myNumberFarLabel(i)
	}
	for i := 0; i < 6; i++ {
		g.myNumberList(i)
	}
	for i := 0; i < 12; i++ {
		g.paymentTableBody(i)
	}
	for i := 0; i < 6; i++ {
		g.paymentDocx(i)
	}
	for i := 0; i < 5; i++ {
		g.htmlTable(i)
	}
	for i := 0; i < 6; i++ {
		g.keyValue(i)
	}
	for i := 0; i < 4; i++ {
		g.flowed(i)
	}
	for i := 0; i < 8; i++ {
		g.customerCSV(i)
	}
	for i := 0; i < 5; i++ {
		g.customerXLSX(i)
	}
	for i := 0; i < 10; i++ {
		g.cardProse(i)
	}
	for i := 0; i < 6; i++ {
		g.corporateNumber(i)
	}
	for i := 0; i < 6; i++ {
		g.contactOnly(i)
	}
	for i := 0; i < 4; i++ {
		g.bankTransfer(i)
	}
	for i := 0; i < 6; i++ {
		g.keyword(i)
	}
	for i := 0; i < 4; i++ {
		g.pension(i)
	}
	for i := 0; i < 4; i++ {
		g.residence(i)
	}
	for i := 0; i < 4; i++ {
		g.juminhyoCase(i)
	}
	for i := 0; i < 5; i++ {
		g.insurance(i)
	}
	for i := 0; i < 6; i++ {
		g.contactTable(i)
	}
	for i := 0; i < 4; i++ {
		g.quotedReply(i)
	}
	// Hard negatives.
	for i := 0; i < 8; i++ {
		g.orderNumbers(i)
	}
	for i := 0; i < 6; i++ {
		g.contraryLabel(i)
	}
	for i := 0; i < 5; i++ {
		g.trackingNumbers(i)
	}
	for i := 0; i < 5; i++ {
		g.testCards(i)
	}
	for i := 0; i < 5; i++ {
		g.cutGroups(i)
	}
	for i := 0; i < 5; i++ {
		g.amountsDates(i)
	}
	for i := 0; i < 4; i++ {
		g.orderCSV(i)
	}
	for i := 0; i < 3; i++ {
		g.sampleMyNumberDoc(i)
	}
	for i := 0; i < 4; i++ {
		g.productCodes(i)
	}
}

func (g *gen) add(family, layout string, t truth, hardNeg bool, data []byte, note string) {
	name := fmt.Sprintf("%03d-%s.eml", len(g.mails)+1, family)
	g.mails = append(g.mails, mail{label: Label{File: name, Family: family, Layout: layout, Expect: t.list(), HardNegative: hardNeg, Counts: t.counts(), Note: note}, data: data})
}

// textMail builds a one-part text mail in a random charset and encoding.
func (g *gen) textMail(subject, body string, attach ...attachment) []byte {
	to := g.pick(partners...)
	h := g.headers(subject, to)
	cs, enc, data := g.encodeBody(body)
	tp := part{header: fmt.Sprintf("Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s", cs, enc), body: data}
	if len(attach) == 0 {
		return []byte(h + tp.header + "\r\n\r\n" + string(tp.body))
	}
	parts := []part{tp}
	for _, a := range attach {
		parts = append(parts, a.part())
	}
	return multipart(h, "mixed", parts...)
}

func (g *gen) headers(subject, toDomain string) string {
	from := romaji[g.r.IntN(len(romaji))] + "@example.com"
	to := romaji[g.r.IntN(len(romaji))] + "@" + toDomain
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%d@example.com>\r\nMIME-Version: 1.0\r\n",
		from, to, mime.BEncoding.Encode("UTF-8", subject), fixed.Format(time.RFC1123Z), g.r.Uint32(), len(g.mails)+1)
}

// encodeBody picks a charset and transfer encoding the text survives:
// ISO-2022-JP and Shift_JIS only when every character has a JIS code.
func (g *gen) encodeBody(body string) (charset, cte string, data []byte) {
	body = strings.ReplaceAll(body, "\n", "\r\n")
	switch g.r.IntN(5) {
	case 0:
		if b, ok := encodeWith(japanese.ISO2022JP, body); ok {
			return "ISO-2022-JP", "7bit", b
		}
	case 1:
		if b, ok := encodeWith(japanese.ShiftJIS, body); ok {
			if g.chance(0.5) {
				return "Shift_JIS", "base64", b64(b)
			}
			return "Shift_JIS", "8bit", b
		}
	case 2:
		return "UTF-8", "quoted-printable", qp([]byte(body))
	case 3:
		return "UTF-8", "base64", b64([]byte(body))
	}
	return "UTF-8", "8bit", []byte(body)
}

func encodeWith(e encoding.Encoding, s string) ([]byte, bool) {
	b, err := e.NewEncoder().Bytes([]byte(s))
	return b, err == nil
}

func b64(b []byte) []byte {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s + "\r\n")
	return []byte(out.String())
}

func qp(b []byte) []byte {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	return out.Bytes()
}

type part struct {
	header string
	body   []byte
}

func multipart(top, kind string, parts ...part) []byte {
	boundary := fmt.Sprintf("=_sg_%s_%d", kind, len(parts))
	var b bytes.Buffer
	b.WriteString(top)
	fmt.Fprintf(&b, "Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", kind, boundary)
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\n%s\r\n\r\n", boundary, p.header)
		b.Write(p.body)
		if !bytes.HasSuffix(p.body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

type attachment struct {
	name, ctype string
	data        []byte
}

func (a attachment) part() part {
	enc := mime.BEncoding.Encode("UTF-8", a.name)
	return part{header: fmt.Sprintf("Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64", a.ctype, enc, enc), body: b64(a.data)}
}

// issueCases are the misses and the false positive reported in issue #12,
// with their exact values, in a mail around them.
func (g *gen) issueCases() {
	t := truth{}.add("mynumber").count("mynumber", 2)
	doc := docx([]string{"支払調書"}, [][]string{{"氏名", "マイナンバー", "支払金額"}, {"山田 太郎", "2922-0236-1448", "120,000"}, {"鈴木 花子", "8470-8026-9628", "80,000"}})
	g.add("issue-docx-table", "docx-table", t, false, g.textMail("支払調書", g.greeting(g.name())+"支払調書を添付します。\n"+g.signature(t),
		attachment{"支払調書.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", doc}), "issue #12: 支払調書 table with a マイナンバー column")

	t = truth{}.add("mynumber").count("mynumber", 2)
	body := g.greeting(g.name()) + "支払調書の内容です。\n\n氏名\tマイナンバー\t支払金額\n山田 太郎\t2922-0236-1448\t120,000\n鈴木 花子\t847080269628\t80,000\n\n" + g.signature(t)
	g.add("issue-tsv-body", "tab", t, false, g.textMail("支払調書", body), "issue #12: tab-separated table pasted into the body")

	t = truth{}.add("mynumber")
	body = g.greeting(g.name()) + "ご依頼のマイナンバーをお知らせします。\nお手数ですが、ご確認ください。\n\n本人：847080269628\n\n" + g.signature(t)
	g.add("issue-label-above", "label-lines-above", t, false, g.textMail("マイナンバーのご連絡", body), "issue #12: label a few lines above")

	t = truth{}.add("mynumber").count("mynumber", 2)
	body = g.greeting(g.name()) + "番号は 847080269628 です。\n配偶者様は 292202361448 です。\n" + g.signature(t)
	g.add("issue-list", "list-no-label", t, false, g.textMail("番号のご連絡", body), "issue #12: several valid values in one list")

	t = truth{}.add("mynumber")
	flowed := "お世話になっております。\r\n個人番号は 1932 5813 \r\n8140 です。\r\nよろしくお願いいたします。\r\n"
	g.add("issue-flowed", "format-flowed", t, false, []byte(g.headers("ご本人確認", g.pick(partners...))+
		"Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"+flowed), "issue #12: format=flowed soft break inside the number")

	t = truth{}
	body = g.greeting(g.name()) + "照合できなかった番号：4111 1111 1111 1112\nお手数ですが、再度ご確認ください。\n" + g.signature(t)
	g.add("issue-cut-card", "digit-groups", t, true, g.textMail("照合結果", body), "issue #12: the first 12 digits of a grouped 16-digit number failing Luhn")
}

// ---- positive families ----

var myLabels = []string{"マイナンバー", "個人番号", "マイナンバー（個人番号）", "個人番号カードの番号", "マイナンバーカードの番号", "My Number"}

func (g *gen) myNumberProse(i int) {
	t := truth{}.add("mynumber")
	to := g.name()
	v := g.myNumberForm(g.myNumber())
	label := g.pick(myLabels...)
	var payload string
	switch i % 4 {
	case 0:
		payload = fmt.Sprintf("%s：%s\n", label, v)
	case 1:
		payload = fmt.Sprintf("ご本人様の%sは %s となります。\n", label, v)
	case 2:
		payload = fmt.Sprintf("%s\n%s\n", label, v)
	default:
		payload = fmt.Sprintf("%s（%s）\n", v, label)
	}
	body := g.greeting(to) + g.filler(1+g.r.IntN(2)) + "\n" + payload + "\n" + g.filler(1) + g.signature(t)
	g.add("mynumber-prose", "sentence", t, false, g.textMail(g.pick("マイナンバーのご提出", "扶養控除申告書の件", "手続き書類について"), body), "")
}

func (g *gen) myNumberFarLabel(i int) {
	t := truth{}.add("mynumber")
	to := g.name()
	v := g.myNumber()
	if i%2 == 1 {
		v = g.myNumberForm(v)
	}
	who := g.pick("本人", "ご本人", "申請者", "従業員本人")
	body := g.greeting(to) + fmt.Sprintf("%sをお知らせいたします。\n", g.pick(myLabels...)) + g.filler(1+g.r.IntN(3)) + "\n" + fmt.Sprintf("%s：%s\n", who, v) + "\n" + g.filler(1) + g.signature(t)
	g.add("mynumber-far-label", "label-lines-above", t, false, g.textMail("番号のご連絡", body), "the label is a few lines above the value")
}

func (g *gen) myNumberList(i int) {
	t := truth{}.add("mynumber")
	n := 2 + g.r.IntN(3)
	rel := []string{"番号は", "配偶者様は", "ご長男様は", "ご長女様は", "ご次男様は"}
	var b strings.Builder
	for k := 0; k < n; k++ {
		fmt.Fprintf(&b, "%s %s です。\n", rel[k], g.myNumber())
	}
	t.count("mynumber", n)
	body := g.greeting(g.name()) + "ご家族分の番号を以下に記載します。\n\n" + b.String() + "\n" + g.filler(1) + g.signature(t)
	g.add("mynumber-list", "list-no-label", t, false, g.textMail("ご家族分の番号", body), "several checksum-valid values with no label")
}

// table renders rows in one of the plain-text table layouts.
func (g *gen) table(layout string, rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		switch layout {
		case "tab":
			b.WriteString(strings.Join(r, "\t"))
		case "space":
			for k, c := range r {
				b.WriteString(c)
				if k < len(r)-1 {
					b.WriteString(strings.Repeat(" ", max(2, 16-displayWidth(c))))
				}
			}
		case "zenkaku":
			for k, c := range r {
				b.WriteString(c)
				if k < len(r)-1 {
					b.WriteString(strings.Repeat("　", max(1, (16-displayWidth(c))/2)))
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		if r < 0x1100 {
			w++
		} else {
			w += 2
		}
	}
	return w
}

func (g *gen) paymentRows(n int, numbers func() string) [][]string {
	hdr := []string{"氏名", g.pick("マイナンバー", "個人番号", "個人番号（マイナンバー）"), "支払金額"}
	if g.chance(0.4) {
		hdr = []string{"No", "氏名", g.pick("マイナンバー", "個人番号"), "支払金額", "源泉徴収税額"}
	}
	rows := [][]string{hdr}
	for k := 0; k < n; k++ {
		nm := strings.ReplaceAll(g.name(), "　", " ")
		amt := fmt.Sprintf("%d,%03d", 10+g.r.IntN(990), g.r.IntN(1000))
		if len(hdr) == 3 {
			rows = append(rows, []string{nm, numbers(), amt})
		} else {
			rows = append(rows, []string{fmt.Sprint(k + 1), nm, numbers(), amt, fmt.Sprintf("%d,%03d", g.r.IntN(99), g.r.IntN(1000))})
		}
	}
	return rows
}

func (g *gen) paymentTableBody(i int) {
	t := truth{}.add("mynumber")
	layout := []string{"tab", "space", "zenkaku"}[i%3]
	rows := g.paymentRows(2+g.r.IntN(4), func() string {
		v := g.myNumber()
		if g.chance(0.5) {
			return group(v, "-", 4, 4, 4)
		}
		return v
	})
	t.count("mynumber", len(rows)-1)
	body := g.greeting(g.name()) + "支払調書の内容を以下に貼り付けます。\n\n" + g.table(layout, rows) + "\n" + g.filler(1) + g.signature(t)
	g.add("payment-table", layout, t, false, g.textMail("支払調書（"+g.pick("4月", "5月", "上期")+"分）", body), "header column carries to every row")
}

func (g *gen) paymentDocx(i int) {
	t := truth{}.add("mynumber")
	rows := g.paymentRows(2+g.r.IntN(5), func() string { return g.myNumberForm(g.myNumber()) })
	t.count("mynumber", len(rows)-1)
	doc := docx([]string{"支払調書", "令和8年分 報酬、料金、契約金及び賞金の支払調書"}, rows)
	body := g.greeting(g.name()) + "支払調書を添付いたします。ご確認ください。\n" + g.signature(t)
	g.add("payment-docx", "docx-table", t, false, g.textMail("支払調書の送付", body, attachment{"支払調書.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", doc}), "")
}

func (g *gen) htmlTable(i int) {
	t := truth{}.add("mynumber", "jp_phone")
	var rows strings.Builder
	hdr := g.pick("マイナンバー", "個人番号")
	rows.WriteString("<tr><th>氏名</th><th>" + hdr + "</th><th>電話番号</th></tr>\n")
	n := 2 + g.r.IntN(3)
	for k := 0; k < n; k++ {
		v := g.myNumber()
		cell := v
		if g.chance(0.5) {
			// split across elements, as editors write styled digits
			cell = "<span>" + v[:4] + "</span><span>" + v[4:8] + "</span>" + v[8:]
		}
		fmt.Fprintf(&rows, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", g.name(), cell, g.phone())
	}
	t.count("mynumber", n)
	html := "<html><body><p>" + g.name() + "様</p><p>いつもお世話になっております。対象者の一覧です。</p>\n<table border=\"1\">\n" + rows.String() + "</table><p>よろしくお願いいたします。</p></body></html>"
	h := g.headers("対象者一覧", g.pick(partners...))
	data := []byte(h + "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + string(qp([]byte(html))))
	g.add("html-table", "html-table", t, false, data, "")
}

func (g *gen) keyValue(i int) {
	t := truth{}.add("mynumber")
	nm := g.name()
	var kv string
	v := g.myNumber()
	switch i % 3 {
	case 0:
		kv = fmt.Sprintf("氏名\t%s\nマイナンバー\t%s\n生年月日\t1985年4月1日\n", nm, v)
	case 1:
		kv = fmt.Sprintf("【氏名】%s\n【個人番号】%s\n", nm, g.myNumberForm(v))
	default:
		kv = fmt.Sprintf("■ 氏名　　　　：%s\n■ 個人番号　　：%s\n■ 住所　　　　：〒%s %s\n", nm, v, g.postal(), g.address())
		t.add("postal_code", "jp_address")
	}
	body := g.greeting(g.name()) + "入社手続きの情報をお送りします。\n\n" + kv + "\n" + g.signature(t)
	g.add("key-value", "label-cell-left", t, false, g.textMail("入社手続きの件", body), "")
}

func (g *gen) flowed(i int) {
	t := truth{}.add("mynumber")
	v := g.myNumber()
	body := g.greeting(g.name()) + "お問い合わせの件、ご本人確認のためお知らせいたします。個人番号は " + v[:4] + " " + v[4:8] + " \r\n" + v[8:] + " です。\n" + g.signature(t)
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\x00"), "\n", "\r\n")
	body = strings.ReplaceAll(body, "\x00", "\r\n")
	h := g.headers("ご本人確認", g.pick(partners...))
	data := []byte(h + "Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body)
	g.add("flowed", "format-flowed", t, false, data, "a soft line break inside the number")
}

func (g *gen) customerRows(n int) ([][]string, truth) {
	t := truth{}.add("jp_phone", "email_address", "postal_code", "jp_address")
	hdr := []string{"氏名", "フリガナ", "郵便番号", "住所", "電話番号", "メールアドレス"}
	withMy := g.chance(0.5)
	if withMy {
		hdr = append(hdr, g.pick("マイナンバー", "個人番号"))
		t.add("mynumber").count("mynumber", n)
	}
	rows := [][]string{hdr}
	for k := 0; k < n; k++ {
		s := g.r.IntN(len(surnames))
		r := []string{surnames[s] + given[g.r.IntN(len(given))], "ヤマダ", g.postal(), g.address(), g.phone(), fmt.Sprintf("%s.%d@mail.example.jp", romaji[s], k+1)}
		if withMy {
			r = append(r, g.myNumber())
		}
		rows = append(rows, r)
	}
	return rows, t
}

func csvText(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		for k, c := range r {
			if k > 0 {
				b.WriteString(",")
			}
			if strings.ContainsAny(c, ",\"") {
				c = "\"" + strings.ReplaceAll(c, "\"", "\"\"") + "\""
			}
			b.WriteString(c)
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func (g *gen) customerCSV(i int) {
	rows, t := g.customerRows(5 + g.r.IntN(60))
	data := []byte(csvText(rows))
	if i%2 == 0 {
		if b, ok := encodeWith(japanese.ShiftJIS, string(data)); ok {
			data = b
		}
	} else if i%4 == 1 {
		data = append([]byte("\xEF\xBB\xBF"), data...)
	}
	body := g.greeting(g.name()) + "顧客リストを送付します。\n" + g.signature(t)
	g.add("customer-csv", "csv", t, false, g.textMail("顧客リスト送付", body, attachment{"顧客リスト.csv", "text/csv", data}), "")
}

func (g *gen) customerXLSX(i int) {
	rows, t := g.customerRows(5 + g.r.IntN(40))
	f := excelize.NewFile()
	if err := f.SetDocProps(&excelize.DocProperties{Created: "2026-04-01T00:00:00Z", Modified: "2026-04-01T00:00:00Z", Creator: "sample"}); err != nil {
		log.Fatal(err)
	}
	for k, r := range rows {
		row := make([]any, len(r))
		for j, c := range r {
			row[j] = c
		}
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", k+1), &row); err != nil {
			log.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		log.Fatal(err)
	}
	body := g.greeting(g.name()) + "名簿を添付いたします。\n" + g.signature(t)
	g.add("customer-xlsx", "xlsx", t, false, g.textMail("名簿の送付", body, attachment{"名簿.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b.Bytes()}), "")
}

func (g *gen) cardProse(i int) {
	t := truth{}.add("credit_card")
	v, brand := g.card()
	form := g.cardForm(v)
	var payload string
	switch i % 5 {
	case 4:
		payload = fmt.Sprintf("ご注文のお支払いは %s でお願いいたします。\n", form)
	case 0:
		payload = fmt.Sprintf("カード番号：%s\n有効期限：%02d/%02d\n", form, 1+g.r.IntN(12), 27+g.r.IntN(5))
	case 1:
		payload = fmt.Sprintf("お支払いは%sカード（%s）でお願いします。\n", brand, form)
	case 2:
		payload = fmt.Sprintf("クレジットカード\n名義：%s\n番号：%s\n", strings.ToUpper(romaji[g.r.IntN(len(romaji))])+" TARO", form)
	default:
		payload = fmt.Sprintf("先ほどお電話でお伝えした番号は %s です。\n", form)
	}
	if i%3 == 2 {
		// a company name that contains a documentation-like word
		payload = "株式会社サンプル商事 総務部\n" + payload
	}
	body := g.greeting(g.name()) + "出張手配の件、決済情報をお送りします。\n\n" + payload + "\n" + g.signature(t)
	g.add("card", "sentence", t, false, g.textMail("出張手配（決済情報）", body), "")
}

func (g *gen) corporateNumber(i int) {
	t := truth{}.add("corporate_number")
	v := g.corporate()
	var payload string
	switch i % 3 {
	case 0:
		payload = fmt.Sprintf("法人番号：%s\n", v)
	case 1:
		payload = fmt.Sprintf("適格請求書発行事業者登録番号：T%s\n", v)
	default:
		payload = fmt.Sprintf("当社の法人番号は %s です。\n", group(v, "-", 1, 4, 4, 4))
	}
	body := g.greeting(g.name()) + "取引先登録に必要な情報をお送りします。\n\n株式会社サンプル商事\n" + payload + "\n" + g.signature(t)
	g.add("corporate", "sentence", t, false, g.textMail("取引先登録情報", body), "")
}

func (g *gen) contactOnly(i int) {
	t := truth{}
	body := g.greeting(g.name()) + g.filler(2+g.r.IntN(3)) + g.signature(t)
	if len(t) == 0 {
		t = truth{}
	}
	g.add("contact", "signature", t, false, g.textMail(g.pick("打ち合わせのお礼", "資料送付のご連絡", "日程調整"), body), "ordinary mail; only the signature may carry contact data")
}

func (g *gen) bankTransfer(i int) {
	t := truth{}.add("bank_account")
	body := g.greeting(g.name()) + "お振込先は下記のとおりです。\n\n" + fmt.Sprintf("振込先：%s %s\n%s %07d\n口座名義：カ）サンプルショウジ\n", g.pick(banks...), g.pick(branches...), g.pick("普通", "当座", "普通預金"), g.r.IntN(10000000)) + "\n" + g.signature(t)
	g.add("bank", "sentence", t, false, g.textMail("お振込先のご案内", body), "")
}

func (g *gen) keyword(i int) {
	t := truth{}.add("keyword")
	word := g.pick("社外秘", "極秘", "取扱注意", "関係者外秘", "Confidential", "部外秘")
	var body string
	switch i % 3 {
	case 0:
		body = "【" + word + "】\n" + g.greeting(g.name()) + g.filler(2)
	case 1:
		body = g.greeting(g.name()) + "本資料は" + word + "につき、取り扱いにご注意ください。\n" + g.filler(1)
	default:
		body = g.greeting(g.name()) + g.filler(2) + "\n※この資料は" + word + "です。\n"
	}
	body += g.signature(t)
	g.add("keyword", "sentence", t, false, g.textMail(g.pick("価格改定の件", "新製品の件", "人事異動の件"), body), "")
}

func (g *gen) pension(i int) {
	t := truth{}.add("pension_number")
	v := fmt.Sprintf("%04d-%06d", 1000+g.r.IntN(9000), g.r.IntN(1000000))
	if i%2 == 1 {
		v = strings.ReplaceAll(v, "-", "")
	}
	body := g.greeting(g.name()) + "資格取得届の作成にあたり、以下をご確認ください。\n\n" + fmt.Sprintf("氏名：%s\n%s：%s\n", g.name(), g.pick("基礎年金番号", "年金番号"), v) + "\n" + g.signature(t)
	g.add("pension", "sentence", t, false, g.textMail("資格取得届", body), "")
}

func (g *gen) residence(i int) {
	t := truth{}.add("residence_card")
	v := g.letters(2) + string(g.digits(8)) + g.letters(2)
	body := g.greeting(g.name()) + "外国籍社員の雇用届出に必要な情報です。\n\n" + fmt.Sprintf("氏名：%s\n国籍：ベトナム\n%s：%s\n在留期間：2029年3月31日まで\n", "NGUYEN VAN AN", g.pick("在留カード番号", "在留カード"), v) + "\n" + g.signature(t)
	g.add("residence", "sentence", t, false, g.textMail("外国人雇用状況届出", body), "")
}

func (g *gen) juminhyoCase(i int) {
	t := truth{}.add("juminhyo_code")
	body := g.greeting(g.name()) + "住民票の写しの記載内容をお知らせします。\n\n" + fmt.Sprintf("住民票コード：%s\n", g.juminhyo()) + "\n" + g.signature(t)
	g.add("juminhyo", "sentence", t, false, g.textMail("住民票の記載事項", body), "")
}

func (g *gen) insurance(i int) {
	t := truth{}.add("health_insurance")
	var payload string
	if i%2 == 0 {
		payload = fmt.Sprintf("保険者番号：%s\n", g.insurer())
	} else {
		payload = fmt.Sprintf("被保険者証の記号：%s\n番号：%d\n", string(g.digits(7)), 1+g.r.IntN(300))
	}
	body := g.greeting(g.name()) + "健康保険の資格確認のため、以下をお送りします。\n\n" + payload + "\n" + g.signature(t)
	g.add("insurance", "sentence", t, false, g.textMail("健康保険の資格確認", body), "")
}

// contactTable: a plain-text address list whose bare numbers (1000005,
// 0312345678) are postal codes and phones only because of the column.
func (g *gen) contactTable(i int) {
	t := truth{}.add("postal_code", "jp_phone", "jp_address")
	layout := []string{"tab", "space", "zenkaku"}[i%3]
	rows := [][]string{{"氏名", g.pick("〒", "郵便番号"), "住所", g.pick("電話", "TEL", "電話番号")}}
	for k := 0; k < 3+g.r.IntN(4); k++ {
		p := strings.ReplaceAll(g.postal(), "-", "")
		ph := strings.ReplaceAll(g.phone(), "-", "")
		if len(ph) == 11 {
			ph = g.phone() // mobiles keep their hyphens here; bare ones are below
		}
		rows = append(rows, []string{strings.ReplaceAll(g.name(), "　", ""), p, g.address(), ph})
	}
	t.count("postal_code", len(rows)-1).count("jp_phone", len(rows)-1)
	body := g.greeting(g.name()) + "送付先リストです。発送をお願いします。\n\n" + g.table(layout, rows) + "\n" + g.signature(t)
	g.add("contact-table", layout, t, false, g.textMail("送付先リスト", body), "bare postal codes and phones under their column")
}

func (g *gen) quotedReply(i int) {
	t := truth{}.add("mynumber")
	v := g.myNumberForm(g.myNumber())
	quote := fmt.Sprintf("> %s様\n>\n> 手続きのため、以下をお送りします。\n> %s：%s\n> よろしくお願いします。\n", g.name(), g.pick(myLabels...), v)
	body := g.greeting(g.name()) + "承知いたしました。転送いたします。\n\n-----Original Message-----\n" + quote + g.signature(t)
	g.add("quoted-reply", "quoted", t, false, g.textMail("RE: 手続き書類", body), "the number sits in a quoted reply")
}

// ---- hard negatives ----

func (g *gen) orderNumbers(i int) {
	t := truth{}
	var b strings.Builder
	n := 1 + g.r.IntN(3)
	for k := 0; k < n; k++ {
		fmt.Fprintf(&b, "%s：%s　%s %d点\n", g.pick("ご注文番号", "注文番号", "受注番号"), g.invalid12(), g.pick("コピー用紙A4", "トナーカートリッジ", "ボールペン"), 1+g.r.IntN(9))
	}
	body := g.greeting(g.name()) + "ご注文ありがとうございます。以下の内容で承りました。\n\n" + b.String() + fmt.Sprintf("合計金額：%d,%03d円（税込）\n", 1+g.r.IntN(99), g.r.IntN(1000)) + "\n" + g.signature(t)
	g.add("neg-order", "sentence", t, true, g.textMail("ご注文確認", body), "12-digit order numbers failing the check digit")
}

var contrary = []string{"注文番号", "伝票番号", "請求番号", "会員番号", "追跡番号", "お問い合わせ番号", "受付番号", "管理番号"}

func (g *gen) contraryLabel(i int) {
	t := truth{}
	label := contrary[i%len(contrary)]
	v := g.myNumber()
	if g.chance(0.5) {
		v = group(v, "-", 4, 4, 4)
	}
	body := g.greeting(g.name()) + fmt.Sprintf("%s：%s\n", label, v) + "上記の件につきまして、手続きが完了いたしました。\n" + g.signature(t)
	g.add("neg-contrary-label", "sentence", t, true, g.textMail(label+"のご案内", body), "a checksum-valid 12-digit number with a contrary label")
}

func (g *gen) trackingNumbers(i int) {
	t := truth{}
	v := string(g.digits(12))
	form := v
	if i%2 == 0 {
		form = group(v, "-", 4, 4, 4)
	}
	body := g.greeting(g.name()) + fmt.Sprintf("本日、商品を発送いたしました。\n配送業者：%s\nお問い合わせ番号：%s\n", g.pick("ヤマト運輸", "佐川急便", "日本郵便"), form) + "配達状況は配送業者のサイトでご確認いただけます。\n" + g.signature(t)
	g.add("neg-tracking", "sentence", t, true, g.textMail("発送のお知らせ", body), "tracking numbers")
}

func (g *gen) testCards(i int) {
	t := truth{}
	cards := []string{"4111 1111 1111 1111", "4242 4242 4242 4242", "5555 5555 5555 4444", "3530 1113 3330 0000", "4012 8888 8888 1881"}
	var payload string
	switch i % 3 {
	case 0:
		payload = "テスト環境では、以下のテスト用カード番号をご利用ください。\n" + cards[i%len(cards)] + "\n"
	case 1:
		payload = "決済画面の動作確認には、サンプルのカード番号 " + cards[i%len(cards)] + " を入力してください。\n"
	default:
		payload = "ダミーデータ：カード番号 " + cards[i%len(cards)] + "\n"
	}
	body := g.greeting(g.name()) + "決済モジュールの検証手順をお送りします。\n\n" + payload + "\n" + g.signature(t)
	g.add("neg-test-card", "documentation", t, true, g.textMail("決済テスト手順", body), "test card numbers in documentation")
}

func (g *gen) cutGroups(i int) {
	t := truth{}
	var payload string
	switch i % 3 {
	case 0:
		payload = fmt.Sprintf("カード番号（照合に失敗したもの）：%s\n", group(g.luhnFail16(), " ", 4, 4, 4, 4))
	case 1:
		payload = fmt.Sprintf("参照番号：%s\n", group(string(g.digits(20)), " ", 4, 4, 4, 4, 4))
	default:
		payload = fmt.Sprintf("照会番号 %s をお控えください。\n", group(g.luhnFail16(), " ", 4, 4, 4, 4))
	}
	body := g.greeting(g.name()) + payload + g.filler(1) + g.signature(t)
	g.add("neg-cut-group", "digit-groups", t, true, g.textMail("照会結果", body), "a 12-digit window of a longer digit group")
}

func (g *gen) amountsDates(i int) {
	t := truth{}
	body := g.greeting(g.name()) + fmt.Sprintf("請求金額：%d,%03d,%03d円\n支払期日：2026年%d月%d日\n契約期間：2026/04/01～2027/03/31\n見積番号：%s\n", 1+g.r.IntN(9), g.r.IntN(1000), g.r.IntN(1000), 1+g.r.IntN(12), 1+g.r.IntN(28), string(g.digits(10))) + g.filler(2) + g.signature(t)
	g.add("neg-amounts", "sentence", t, true, g.textMail("ご請求について", body), "amounts, dates, quote numbers")
}

func (g *gen) orderCSV(i int) {
	t := truth{}
	rows := [][]string{{"注文番号", "商品名", "数量", "金額"}}
	for k := 0; k < 10+g.r.IntN(30); k++ {
		v := g.invalid12()
		if g.chance(0.3) {
			v = g.myNumber() // valid by chance: the column says what it is
		}
		rows = append(rows, []string{v, g.pick("コピー用紙A4", "トナー", "クリアファイル"), fmt.Sprint(1 + g.r.IntN(20)), fmt.Sprint(100 * (1 + g.r.IntN(100)))})
	}
	body := g.greeting(g.name()) + "今月分の注文一覧です。\n" + g.signature(t)
	g.add("neg-order-csv", "csv", t, true, g.textMail("注文一覧", body, attachment{"注文一覧.csv", "text/csv", []byte(csvText(rows))}), "order numbers, some checksum-valid, under an order column")
}

func (g *gen) sampleMyNumberDoc(i int) {
	t := truth{}
	body := g.greeting(g.name()) + "扶養控除等申告書の書き方をご案内します。\n\n" + fmt.Sprintf("記入例）個人番号：%s\n", group(g.myNumber(), " ", 4, 4, 4)) + "ご自身の番号は、書類に直接ご記入ください（メールでは送らないでください）。\n" + g.signature(t)
	g.add("neg-sample-mynumber", "documentation", t, true, g.textMail("申告書の書き方", body), "a documented example value")
}

func (g *gen) productCodes(i int) {
	t := truth{}
	layout := []string{"tab", "space", "zenkaku", "tab"}[i%4]
	rows := [][]string{{g.pick("商品コード", "品番", "型番"), "品名", "単価"}}
	for k := 0; k < 4+g.r.IntN(5); k++ {
		code := g.invalid12()
		if g.chance(0.4) {
			code = g.myNumber()
		}
		rows = append(rows, []string{code, g.pick("A4コピー用紙", "トナー", "ファイル"), fmt.Sprint(100 * (1 + g.r.IntN(50)))})
	}
	body := g.greeting(g.name()) + "お見積りの対象商品です。\n\n" + g.table(layout, rows) + "\n" + g.signature(t)
	g.add("neg-product-codes", layout, t, true, g.textMail("お見積り対象商品", body), "12-digit product codes, some checksum-valid, under a code column")
}

// ---- DOCX ----

const wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func wText(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return `<w:r><w:t xml:space="preserve">` + s + `</w:t></w:r>`
}

// docx writes a document of paragraphs followed by one table.
func docx(paras []string, rows [][]string) []byte {
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<w:p>" + wText(p) + "</w:p>")
	}
	body.WriteString("<w:tbl>")
	for _, r := range rows {
		body.WriteString("<w:tr>")
		for _, c := range r {
			body.WriteString("<w:tc><w:p>" + wText(c) + "</w:p></w:tc>")
		}
		body.WriteString("</w:tr>")
	}
	body.WriteString("</w:tbl><w:p>" + wText("以上") + "</w:p>")
	files := [][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wNS + `><w:body>` + body.String() + `</w:body></w:document>`},
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: fixed})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			log.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}
