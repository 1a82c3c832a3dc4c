package detect

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

const customerCSV = "氏名,フリガナ,郵便番号,住所,電話番号,メールアドレス,生年月日,マイナンバー,注文番号\n" +
	"山田太郎,ヤマダタロウ,100-0001,東京都千代田区千代田1-1,090-1234-5678,taro@example.jp,1980/01/02,123456789018,123456789018\n" +
	"\"鈴木, 花子\",スズキハナコ,5300001,大阪府大阪市北区梅田3-1-1,0612345678,hanako@example.jp,1990/03/04,,000000000019\n" +
	"佐藤次郎,サトウジロウ,,,,,1975/05/06,,\n" +
	",,,,,,,,\n" +
	"商品A,,,,,,,,4111111111111111\n"

func TestTableColumnsGiveContext(t *testing.T) {
	e := newTestEngine(t, Config{})
	r := e.Scan([]byte(customerCSV), true)
	check := func(det string, want ...string) {
		t.Helper()
		h, _ := r.Hit(det)
		if fmt.Sprint(h.Values) != fmt.Sprint(want) {
			t.Errorf("%s: got %q, want %q", det, h.Values, want)
		}
	}
	// The 注文番号 column vetoes the same digits that the マイナンバー column reports.
	check(MyNumber, "123456789018")
	check(PostalCode, "1000001", "5300001") // bare 7 digits, but a postal column
	check(JPPhone, "09012345678", "0612345678")
	check(EmailAddress, "taro@example.jp", "hanako@example.jp")
	check(CreditCard) // an order-number column
	if !r.CustomerList {
		t.Error("header with 氏名/住所/電話 not recognised as a customer list")
	}
	// Rows: 4 data rows (the empty line is skipped, the header is not data).
	// Records: rows 1 and 2 have hits; row 3 has a name and a birth date.
	if r.Rows != 4 || r.Records != 3 {
		t.Errorf("rows %d records %d, want 4 and 3", r.Rows, r.Records)
	}
	if h, _ := r.Hit(JPPhone); h.Records != 2 {
		t.Errorf("phone records %d, want 2", h.Records)
	}
}

func TestTableWithoutHeader(t *testing.T) {
	e := newTestEngine(t, Config{})
	tsv := "1\t山田\t090-1111-2222\n2\t鈴木\t注文 090-3333-4444\n3\t佐藤\t1234\n"
	r := e.Scan([]byte(tsv), true)
	if r.CustomerList || r.Rows != 3 || r.Records != 1 {
		t.Errorf("customer %v rows %d records %d, want false 3 1", r.CustomerList, r.Rows, r.Records)
	}
	// Without a header the context is the cell: 注文 vetoes only its own cell.
	if h, _ := r.Hit(JPPhone); h.Count != 1 {
		t.Errorf("phones %q", h.Values)
	}
}

func TestTableCellBoundaryEndsNumber(t *testing.T) {
	e := newTestEngine(t, Config{})
	for _, text := range []string{
		"a,1234,5678,9018\n",         // three cells, not a 4-4-4 number
		"a\t090\t1234\t5678\n",       // TSV
		"マイナンバー\n1234\n5678\n9018\n", // one group per row
		"| 090 | 1234 | 5678 |\n",    // text table
	} {
		if hs := e.Scan([]byte(text), true).Hits(); len(hs) != 0 {
			t.Errorf("%q: unexpected hits %+v", text, hs)
		}
	}
}

func TestTableQuotedNewline(t *testing.T) {
	e := newTestEngine(t, Config{})
	csv := "名前,備考,電話\n山田,\"一行目\n二行目\",090-1234-5678\n"
	r := e.Scan([]byte(csv), true)
	if r.Rows != 1 || r.Records != 1 {
		t.Errorf("rows %d records %d, want 1 1", r.Rows, r.Records)
	}
}

func TestTableQuotes(t *testing.T) {
	e := newTestEngine(t, Config{})
	csv := "名前,身長,電話\n" +
		"山田,5'10\",090-1111-2222\n" + // stray quotes inside an unquoted field
		"鈴木,\"He said \"\"hi, there\"\"\",090-3333-4444\n" + // escaped quotes and a comma
		"佐藤,\"090-5555-6666\n03-1234-5678\",\n" // two phones on two lines of one cell
	r := e.Scan([]byte(csv), true)
	h, _ := r.Hit(JPPhone)
	if r.Rows != 3 || r.Records != 3 || h.Count != 4 {
		t.Errorf("rows %d records %d phones %d, want 3 3 4", r.Rows, r.Records, h.Count)
	}
	// An unterminated quote stops mattering after maxQuotedLines lines.
	var b strings.Builder
	b.WriteString("名前,電話\n\"unterminated,x\n")
	for range maxQuotedLines + 10 {
		b.WriteString("山田,090-1111-2222\n")
	}
	if r := e.Scan([]byte(b.String()), true); r.Rows < 5 {
		t.Errorf("unterminated quote swallowed the table: rows %d", r.Rows)
	}
}

func TestShiftJISCustomerList(t *testing.T) {
	sjis, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(customerCSV))
	if err != nil {
		t.Fatal(err)
	}
	utf, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), sjis)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, Config{})
	want := e.Scan([]byte(customerCSV), true)
	got := e.Scan(utf, true)
	if fmt.Sprint(got.Hits()) != fmt.Sprint(want.Hits()) || got.Records != want.Records {
		t.Errorf("Shift_JIS round trip differs:\n got %+v\nwant %+v", got.Hits(), want.Hits())
	}
	// Shift_JIS full-width minus decodes to U+2212 or U+FF0D; both are dashes.
	text := "電話：０９０－１２３４－５６７８　〒１００－０００１"
	sjis, _, err = transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	utf, _, _ = transform.Bytes(japanese.ShiftJIS.NewDecoder(), sjis)
	r := e.Scan(utf, false)
	if _, ok := r.Hit(JPPhone); !ok {
		t.Errorf("phone lost after Shift_JIS round trip: %q", utf)
	}
	if _, ok := r.Hit(PostalCode); !ok {
		t.Errorf("postal code lost after Shift_JIS round trip: %q", utf)
	}
}

func TestDocumentChunksMatchOneScan(t *testing.T) {
	e := newTestEngine(t, Config{})
	var sb strings.Builder
	for i := range 300 {
		fmt.Fprintf(&sb, "山田%03d,東京都港区芝%d-1,090-%04d-%04d,user%d@example.jp,マイナンバー\n", i, i, i, 9999-i, i)
	}
	prose := "社外秘\nマイナンバー：\n1234 5678 9018 / ＴＥＬ：０３－１２３４－５６７８\n"
	for _, tc := range []struct {
		text    string
		tabular bool
	}{{"氏名,住所,電話,メール,備考\n" + sb.String(), true}, {prose + sb.String(), false}} {
		want := e.Scan([]byte(tc.text), tc.tabular)
		for _, size := range []int{1, 2, 3, 7, 64, 1000} {
			d := e.NewDocument(tc.tabular)
			for b := []byte(tc.text); len(b) > 0; {
				n := min(size, len(b))
				if _, err := d.Write(b[:n]); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
			got := d.Result()
			if fmt.Sprint(got.Hits()) != fmt.Sprint(want.Hits()) ||
				got.Rows != want.Rows || got.Records != want.Records || got.CustomerList != want.CustomerList {
				t.Fatalf("tabular %v chunk %d:\n got %+v %d %d\nwant %+v %d %d", tc.tabular, size,
					got.Hits(), got.Rows, got.Records, want.Hits(), want.Rows, want.Records)
			}
			if _, err := d.Write([]byte("x")); err != ErrClosed {
				t.Errorf("write after Result: %v", err)
			}
		}
	}
}

func TestMergeParts(t *testing.T) {
	e := newTestEngine(t, Config{MaxSamples: 2})
	a := e.Scan([]byte("090-1111-2222 090-3333-4444"), false)
	b := e.Scan([]byte("090-3333-4444 090-5555-6666"), false)
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	h, _ := a.Hit(JPPhone)
	if h.Count != 3 || len(h.Samples) != 2 || len(h.Values) != 3 {
		t.Errorf("merged %+v", h)
	}
	other := newTestEngine(t, Config{})
	if err := a.Merge(other.Scan(nil, false)); err != ErrForeignResult {
		t.Errorf("merge across engines: %v", err)
	}
	// Without retained values, samples merge by their masked text.
	e2, _ := New(Config{})
	c := e2.Scan([]byte("090-1111-2222"), false)
	if err := c.Merge(e2.Scan([]byte("090-1111-2222 080-1234-5678"), false)); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Hit(JPPhone); h.Count != 2 || len(h.Samples) != 2 || h.Values != nil {
		t.Errorf("merged without values %+v", h)
	}
}

func TestDistinctCount(t *testing.T) {
	e := newTestEngine(t, Config{})
	phones := func(from, to int) []byte {
		var buf bytes.Buffer
		for i := from; i < to; i++ {
			fmt.Fprintf(&buf, "090-%04d-%04d\n", i/10000, i%10000)
		}
		return buf.Bytes()
	}
	h, _ := e.Scan(phones(0, exactLimit), false).Hit(JPPhone)
	if h.Count != exactLimit || h.Approximate {
		t.Errorf("exact range: count %d approximate %v", h.Count, h.Approximate)
	}
	// The sketch's standard error is 0.8% and the hash seed differs per run:
	// ±5% is more than six standard errors, so the test does not flake.
	for _, n := range []int{exactLimit + 1, 20_000, 200_000} {
		r := e.Scan(phones(0, n), false)
		h, _ := r.Hit(JPPhone)
		if !h.Approximate || h.Count < n*95/100 || h.Count > n*105/100 {
			t.Errorf("%d phones: count %d approximate %v", n, h.Count, h.Approximate)
		}
		// Merging overlapping halves counts the union.
		a := e.Scan(phones(0, n*2/3), false)
		if err := a.Merge(e.Scan(phones(n/3, n), false)); err != nil {
			t.Fatal(err)
		}
		if h, _ := a.Hit(JPPhone); h.Count < n*95/100 || h.Count > n*105/100 {
			t.Errorf("%d phones merged: count %d", n, h.Count)
		}
	}
}

// Many small writes without a line break stay linear.
func TestDocumentSmallWritesLongLine(t *testing.T) {
	e := newTestEngine(t, Config{})
	d := e.NewDocument(false)
	chunk := []byte("1234 ")
	for range maxLine/5 + 20_000 { // just past maxLine in 5-byte writes
		d.Write(chunk)
	}
	if hs := d.Result().Hits(); len(hs) != 0 {
		t.Errorf("hits in a run of short numbers: %+v", hs)
	}
}

func TestTableEveryColumnKind(t *testing.T) {
	e := newTestEngine(t, Config{})
	tsv := "Name\tPassport\t運転免許証番号\t口座番号\tカード番号\t法人番号\tE-mail\tTEL\n" +
		"Taro Yamada\tTK1234567\t301234567890\t1234567\t4111111111111111\t7000012050002\ttaro@example.com\t0312345678\n"
	r := e.Scan([]byte(tsv), true)
	want := map[string]string{
		Passport: "TK1234567", DriversLicense: "301234567890", BankAccount: "1234567",
		CreditCard: "4111111111111111", CorporateNumber: "7000012050002",
		EmailAddress: "taro@example.com", JPPhone: "0312345678",
	}
	for det, v := range want {
		h, ok := r.Hit(det)
		if !ok || len(h.Values) != 1 || h.Values[0] != v || h.Records != 1 {
			t.Errorf("%s: got %+v, want %s in 1 record", det, h, v)
		}
	}
	if len(r.Hits()) != len(want) || !r.CustomerList || r.Records != 1 {
		t.Errorf("hits %d customer %v records %d", len(r.Hits()), r.CustomerList, r.Records)
	}
}

// Text tables in mail bodies: cell borders end numbers, values inside cells
// are found with the cell's or line's context.
func TestTextTable(t *testing.T) {
	e := newTestEngine(t, Config{})
	body := "| 氏名 | 電話 | マイナンバー |\n|---|---|---|\n" +
		"| 山田 | 090-1234-5678 | 1234 5678 9018 |\n" +
		"| 鈴木 | ０３－１２３４－５６７８ | ― |\n"
	r := e.Scan([]byte(body), false)
	if got := valuesOf(e, body, false, JPPhone); fmt.Sprint(got) != "[0312345678 09012345678]" {
		t.Errorf("phones %q", got)
	}
	if _, ok := r.Hit(MyNumber); !ok {
		t.Error("4-4-4 My Number in a text table not found")
	}
	if r.Lines != 2 {
		t.Errorf("lines %d, want 2", r.Lines)
	}
}
