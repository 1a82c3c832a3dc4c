package inspect

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The labelled people corpus: generated messages whose true number of
// distinct people is known, in every shape a list leaves in: CSV (UTF-8
// and Shift_JIS), XLSX, DOCX tables, lists pasted into the body, several
// attachments naming the same people, repeated rows, a table with names
// and addresses only, and tables without personal columns (zero people).

// person i of the corpus; every field is unique per i.
type corpusPerson struct{ name, addr, phone, email, birth string }

var mei3 = []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万", "春", "夏", "秋", "冬", "東", "西"}

func personAt(i int) corpusPerson {
	s, m1, m2, m3 := i%10, (i/10)%10, (i/100)%10, (i/1000)%20
	return corpusPerson{
		name:  sei[s] + " " + mei1[m1] + mei2[m2] + mei3[m3],
		addr:  fmt.Sprintf("東京都千代田区丸の内%d-%d-%d", i/2500+1, (i/50)%50+1, i%50+1),
		phone: fmt.Sprintf("090-%04d-%04d", 1000+i/10000, i%10000),
		email: fmt.Sprintf("user%d@customer.example.net", i),
		birth: fmt.Sprintf("19%02d/%02d/%02d", 50+i%40, i%12+1, i%28+1),
	}
}

type peopleCase struct {
	name string
	mail string
	want int // distinct people
}

// column is a header word and the field of a person it holds.
type column struct {
	head string
	get  func(corpusPerson) string
}

var (
	colName  = column{"氏名", func(p corpusPerson) string { return p.name }}
	colAddr  = column{"住所", func(p corpusPerson) string { return p.addr }}
	colPhone = column{"電話番号", func(p corpusPerson) string { return p.phone }}
	colEmail = column{"メールアドレス", func(p corpusPerson) string { return p.email }}
	colBirth = column{"生年月日", func(p corpusPerson) string { return p.birth }}
)

func rowsOf(ids []int, cols []column) [][]string {
	out := [][]string{headOf(cols)}
	for _, i := range ids {
		p := personAt(i)
		row := make([]string, len(cols))
		for c, col := range cols {
			row[c] = col.get(p)
		}
		out = append(out, row)
	}
	return out
}

func headOf(cols []column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.head
	}
	return h
}

func csvOf(rows [][]string) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\r\n")
	}
	return b.Bytes()
}

func docxTable(t *testing.T, rows [][]string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>顧客一覧</w:t></w:r></w:p><w:tbl>`)
	for _, r := range rows {
		b.WriteString("<w:tr>")
		for _, c := range r {
			b.WriteString("<w:tc><w:p><w:r><w:t>" + c + "</w:t></w:r></w:p></w:tc>")
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl></w:body></w:document>")
	return zipOf(t,
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`},
		[2]string{"word/document.xml", b.String()})
}

// sample draws n distinct people from [base, base+pool) and repeats dup of
// them, shuffled.
func sample(r *rand.Rand, base, pool, n, dup int) []int {
	ids := make([]int, 0, n+dup)
	for _, i := range r.Perm(pool)[:n] {
		ids = append(ids, base+i)
	}
	for range dup {
		ids = append(ids, ids[r.IntN(n)])
	}
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

func distinctOf(sets ...[]int) int {
	var all []int
	for _, s := range sets {
		all = append(all, s...)
	}
	slices.Sort(all)
	return len(slices.Compact(all))
}

const (
	ctCSV  = "text/csv; charset=utf-8"
	ctSJIS = "text/csv; charset=shift_jis"
	ctXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	ctDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// peopleCorpus builds the labelled cases from a fixed seed.
func peopleCorpus(t *testing.T) (lists []peopleCase, empty []peopleCase) {
	r := rand.New(rand.NewPCG(17, 2026))
	size := func(lo, hi int) int { // log-uniform
		return int(math.Exp(math.Log(float64(lo)) + r.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))))
	}
	dupOf := func(n int) int { return r.IntN(n/3 + 1) }
	for k := range 12 {
		n := size(3, 20000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		lists = append(lists, peopleCase{fmt.Sprintf("csv-%d", k),
			buildMail("顧客リスト", mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=list.csv\r\n",
				csvOf(rowsOf(ids, []column{colName, colAddr, colPhone, colEmail}))}), n})
	}
	for k := range 8 {
		n := size(3, 8000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		sj := encodeWith(t, japanese.ShiftJIS, string(csvOf(rowsOf(ids, []column{colName, colPhone}))))
		lists = append(lists, peopleCase{fmt.Sprintf("sjis-%d", k),
			buildMail("名簿", mailPart{"Content-Type: " + ctSJIS + "\r\nContent-Disposition: attachment; filename=meibo.csv\r\n", []byte(sj)}), n})
	}
	for k := range 8 {
		n := size(3, 5000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		lists = append(lists, peopleCase{fmt.Sprintf("xlsx-%d", k),
			buildMail("会員", mailPart{"Content-Type: " + ctXLSX + "\r\nContent-Disposition: attachment; filename=members.xlsx\r\n",
				xlsxRows(t, rowsOf(ids, []column{colName, colEmail, colBirth}))}), n})
	}
	for k := range 8 {
		n := size(3, 3000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		lists = append(lists, peopleCase{fmt.Sprintf("docx-%d", k),
			buildMail("参加者", mailPart{"Content-Type: " + ctDOCX + "\r\nContent-Disposition: attachment; filename=participants.docx\r\n",
				docxTable(t, rowsOf(ids, []column{colName, colPhone, colEmail}))}), n})
	}
	for k := range 8 {
		n := size(3, 5000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		var b strings.Builder
		b.WriteString("以下の方々にご連絡ください。\r\n\r\n")
		for _, i := range ids {
			p := personAt(i)
			fmt.Fprintf(&b, "%s様 %s %s\r\n", p.name, p.phone, p.email)
		}
		lists = append(lists, peopleCase{fmt.Sprintf("body-%d", k), mailWith("x@partner.test", b.String(), nil, "", ""), n})
	}
	for k := range 6 {
		// records written on several lines, as in a pasted form
		n := size(3, 3000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		var b strings.Builder
		b.WriteString("お申込みいただいた方の一覧です。\r\n\r\n")
		for j, i := range ids {
			p := personAt(i)
			fmt.Fprintf(&b, "氏名：%s 様\r\n電話：%s\r\nメール：%s\r\n", p.name, p.phone, p.email)
			if k%2 == 0 || j%3 == 0 {
				b.WriteString("\r\n")
			}
		}
		lists = append(lists, peopleCase{fmt.Sprintf("form-%d", k), mailWith("x@partner.test", b.String(), nil, "", ""), n})
	}
	for k := range 8 {
		// The same people in two files: e-mail and phone in a CSV, phone
		// only in a workbook that half overlaps it.
		n := size(4, 4000)
		a := sample(r, 0, 40000, n, dupOf(n))
		bIDs := append(slices.Clone(a[:n/2]), sample(r, 50000, 10000, n/2, 0)...)
		lists = append(lists, peopleCase{fmt.Sprintf("overlap-%d", k),
			buildMail("リスト",
				mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=a.csv\r\n", csvOf(rowsOf(a, []column{colName, colEmail, colPhone}))},
				mailPart{"Content-Type: " + ctXLSX + "\r\nContent-Disposition: attachment; filename=b.xlsx\r\n", xlsxRows(t, rowsOf(bIDs, []column{colName, colPhone}))}),
			distinctOf(a, bIDs)})
	}
	for k := range 6 {
		// names and addresses only: the pair is the key
		n := size(3, 6000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		lists = append(lists, peopleCase{fmt.Sprintf("nameaddr-%d", k),
			buildMail("送付先", mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=addr.csv\r\n",
				csvOf(rowsOf(ids, []column{colName, colAddr}))}), n})
	}
	for k := range 8 {
		// past the exact limit: the HyperLogLog estimate
		n := size(5000, 25000)
		ids := sample(r, 0, 40000, n, dupOf(n))
		var part mailPart
		switch k % 3 {
		case 0, 1:
			part = mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=big.csv\r\n",
				csvOf(rowsOf(ids, []column{colName, colEmail, colPhone, colAddr}))}
		default:
			part = mailPart{"Content-Type: " + ctXLSX + "\r\nContent-Disposition: attachment; filename=big.xlsx\r\n",
				xlsxRows(t, rowsOf(ids, []column{colName, colEmail}))}
		}
		lists = append(lists, peopleCase{fmt.Sprintf("large-%d", k), buildMail("全件", part), n})
	}
	for k := range 3 {
		// large and overlapping, the same strongest identifier in both
		n := size(3000, 8000)
		a := sample(r, 0, 40000, n, dupOf(n))
		bIDs := append(slices.Clone(a[:n/2]), sample(r, 50000, 10000, n/2, 0)...)
		lists = append(lists, peopleCase{fmt.Sprintf("large-overlap-%d", k),
			buildMail("リスト",
				mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=a.csv\r\n", csvOf(rowsOf(a, []column{colName, colEmail, colPhone}))},
				mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=b.csv\r\n", csvOf(rowsOf(bIDs, []column{colName, colEmail}))}),
			distinctOf(a, bIDs)})
	}
	for k := range 4 {
		var b bytes.Buffer
		b.WriteString("品番,品名,単価,在庫\r\n")
		for i := range 50 + k*500 {
			fmt.Fprintf(&b, "A-%05d,部品%d,%d,%d\r\n", i, i, 100+i, i%7)
		}
		empty = append(empty, peopleCase{fmt.Sprintf("products-%d", k),
			buildMail("価格表", mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=price.csv\r\n", b.Bytes()}), 0})
	}
	return lists, empty
}

// TestPeopleAccuracy measures the people estimate on the labelled corpus:
// the goal is within ±5 % of the true count on at least 95 % of the
// list-bearing cases, and zero for tables without personal columns.
func TestPeopleAccuracy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds 62 messages of up to 20,000 rows")
	}
	in := newTest(t)
	lists, empty := peopleCorpus(t)
	within, worst := 0, 0.0
	var errs []float64
	for _, c := range lists {
		res, err := in.Inspect(context.Background(), strings.NewReader(c.mail), Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Report.People
		rel := math.Abs(float64(got-c.want)) / float64(c.want)
		errs = append(errs, rel)
		worst = max(worst, rel)
		if testing.Verbose() {
			t.Logf("%s: people %d, true %d", c.name, got, c.want)
		}
		if rel <= 0.05 {
			within++
		} else {
			t.Logf("%s: people %d, true %d (%.1f %%)", c.name, got, c.want, 100*rel)
		}
	}
	for _, c := range empty {
		res, err := in.Inspect(context.Background(), strings.NewReader(c.mail), Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.People != 0 {
			t.Errorf("%s: people %d, want 0 (no personal columns)", c.name, res.Report.People)
		}
	}
	slices.Sort(errs)
	share := float64(within) / float64(len(lists))
	t.Logf("people estimate: %d/%d list cases within ±5 %% (%.1f %%); median error %.2f %%, 95th percentile %.2f %%, worst %.2f %%",
		within, len(lists), 100*share, 100*errs[len(errs)/2], 100*errs[len(errs)*95/100], 100*worst)
	if share < 0.95 {
		t.Errorf("only %.1f %% of list cases within ±5 %%, want ≥ 95 %%", 100*share)
	}
}

// Data items name what the list holds, in the PPC form's words.
func TestPeopleDataItems(t *testing.T) {
	t.Parallel()
	in := newTest(t)
	ids := []int{1, 2, 3, 2}
	mail := buildMail("名簿", mailPart{"Content-Type: " + ctCSV + "\r\nContent-Disposition: attachment; filename=a.csv\r\n",
		csvOf(rowsOf(ids, []column{colName, colAddr, colPhone, colEmail, colBirth}))})
	res, err := in.Inspect(context.Background(), strings.NewReader(mail), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.People != 3 {
		t.Errorf("people = %d, want 3 (one repeated row)", res.Report.People)
	}
	want := []string{"氏名", "生年月日", "住所", "電話番号", "メールアドレス"}
	if !slices.Equal(res.Report.DataItems, want) {
		t.Errorf("data items %q, want %q", res.Report.DataItems, want)
	}
}
