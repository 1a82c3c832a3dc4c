package inspect

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/edm"
	"github.com/sendguard/sendguard/rules/extract"
)

var edmKey = bytes.Repeat([]byte{3}, 32)

type customer struct{ name, kana, phone, email, id string }

var (
	sei   = []string{"山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"}
	seiK  = []string{"ヤマダ", "サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ナカムラ", "コバヤシ", "カトウ"}
	mei1  = []string{"健", "大", "翔", "美", "真", "一", "陽", "結", "和", "花"}
	mei1K = []string{"ケン", "ダイ", "ショウ", "ミ", "マ", "イチ", "ヨウ", "ユ", "カズ", "ハナ"}
	mei2  = []string{"太", "輔", "子", "郎", "介", "也", "樹", "香", "人", "奈"}
	mei2K = []string{"タ", "スケ", "コ", "ロウ", "スケ", "ヤ", "キ", "カ", "ト", "ナ"}
)

func customerAt(i int) customer {
	s, m1, m2 := i%10, (i/10)%10, (i/100)%10
	return customer{
		name:  sei[s] + " " + mei1[m1] + mei2[m2],
		kana:  seiK[s] + " " + mei1K[m1] + mei2K[m2],
		phone: fmt.Sprintf("090-%04d-%04d", i/10000, i%10000),
		email: fmt.Sprintf("user%d@customer.example.net", i),
		id:    fmt.Sprintf("C%07d", i),
	}
}

// edmIndex imports n generated customers (as `sendguard edm import` does)
// and loads the index.
func edmIndex(tb testing.TB, n int) *edm.Index {
	tb.Helper()
	cols, _ := edm.ParseColumns("name,kana,phone,email,customer_id")
	b, err := edm.NewBuilder(edmKey, cols.Fields())
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		c := customerAt(i)
		if _, err := b.Add([]string{c.name, c.kana, c.phone, c.email, c.id}); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "edm.idx")
	if _, err := b.WriteFile(path, time.Now()); err != nil {
		tb.Fatal(err)
	}
	ix, err := edm.Open(path, edmKey)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}

func mailWith(to, body string, att []byte, name, ctype string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@example.com\r\nTo: %s\r\nSubject: t\r\nMIME-Version: 1.0\r\n", to)
	if att == nil {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", base64.StdEncoding.EncodeToString([]byte(body)))
		return b.String()
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX\r\n",
		base64.StdEncoding.EncodeToString([]byte(body)))
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Disposition: attachment; filename=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n",
		ctype, name, base64.StdEncoding.EncodeToString(att))
	return b.String()
}

func xlsxRows(t *testing.T, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		for c, v := range row {
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			f.SetCellValue("Sheet1", ref, v)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func edmFinding(rep *rules.Report, loc string) (rules.Finding, bool) {
	for _, f := range rep.Findings {
		if f.Detector == DetectorEDM && f.Location == loc {
			return f, true
		}
	}
	return rules.Finding{}, false
}

// TestEDMTwoFieldsInOneRow runs exact data match through the whole
// analysis: CSV in UTF-8 and Shift_JIS, XLSX and body text.
func TestEDMTwoFieldsInOneRow(t *testing.T) {
	t.Parallel()
	ix := edmIndex(t, 2000)
	in, err := New(Config{InternalDomains: []string{"example.com"}, EDM: ix})
	if err != nil {
		t.Fatal(err)
	}
	c := func(i int) customer { return customerAt(i) }
	csvRows := "氏名,電話,備考\n" + c(5).name + "," + c(5).phone + ",\n" + c(6).kana + "," + c(6).phone + ",\n" +
		c(7).name + ",03-5555-0000,代表\n" // one field and an unknown number: no record
	sjis, _ := japanese.ShiftJIS.NewEncoder().String(csvRows)
	const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	for _, tc := range []struct {
		name, msg, loc string
		want           int
	}{
		{"csv utf-8", mailWith("x@partner.test", "添付します。", []byte(csvRows), "list.csv", "text/csv; charset=utf-8"), "attachment:list.csv", 2},
		{"csv shift_jis", mailWith("x@partner.test", "添付します。", []byte(sjis), "list.csv", "text/csv"), "attachment:list.csv", 2},
		{"xlsx rows", mailWith("x@partner.test", "添付します。", xlsxRows(t, [][]string{{"氏名", "メール", "番号"},
			{c(10).name, c(10).email, ""}, {c(11).kana, "", c(11).id}, {c(12).name, "", ""}}), "list.xlsx", xlsxType), "attachment:list.xlsx", 2},
		{"xlsx one record's fields on two rows", mailWith("x@partner.test", "添付します。", xlsxRows(t, [][]string{{c(20).name}, {c(20).phone}}),
			"list.xlsx", xlsxType), "attachment:list.xlsx", 0},
		{"body paragraph", mailWith("x@partner.test", "お世話になっております。\n\n"+c(30).name+"様のご連絡先は "+c(30).phone+" です。\n", nil, "", ""), "body", 1},
		{"body fields in two paragraphs", mailWith("x@partner.test", c(31).name+"様の件です。\n\n携帯: "+c(31).phone+"\n", nil, "", ""), "body", 0},
		{"the customer's own record, to the customer", mailWith(c(40).email, c(40).name+"様\n\nご登録のメールアドレス "+c(40).email+" 宛にお送りします。\n", nil, "", ""), "body", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := in.Inspect(context.Background(), strings.NewReader(tc.msg), Envelope{})
			if err != nil {
				t.Fatal(err)
			}
			f, ok := edmFinding(res.Report, tc.loc)
			if tc.want == 0 {
				if ok {
					t.Fatalf("unexpected edm finding %+v", f)
				}
				return
			}
			if !ok || f.Count != tc.want || f.Records != tc.want {
				t.Fatalf("edm finding %+v (found %v), want %d records; findings %+v", f, ok, tc.want, res.Report.Findings)
			}
			if !res.Decision.Has(rules.ActionHoldSender) {
				t.Errorf("decision %v, want hold_sender", res.Decision.Actions)
			}
			for _, s := range f.Samples {
				if strings.ContainsAny(s, "0123456789@") && !strings.Contains(s, "(") || strings.Contains(s, "山田") {
					t.Errorf("sample %q may carry a value", s)
				}
			}
		})
	}
}

// BenchmarkInspectEDM measures the analysis of messages without and with
// a 1,000,000-record index loaded. The two inspectors alternate on the same
// message within each iteration, so that machine load weighs on both alike;
// the overhead is reported as a percentage. "typical" is business mail (a
// short body, a quotation, a forwarded message); "lists" carries customer
// lists (CSV, XLSX), the worst case, every cell a candidate.
func BenchmarkInspectEDM(b *testing.B) {
	ix := edmIndex(b, 1_000_000)
	base, err := New(Config{InternalDomains: []string{"example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	with, err := New(Config{InternalDomains: []string{"example.com"}, EDM: ix})
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range []struct {
		name  string
		files []string
		gen   [][]byte
	}{
		{"typical", []string{"shiftjis.eml", "iso2022jp.eml", "docx.eml", "forwarded-message.eml", "pdf-ja.eml"}, nil},
		{"lists", []string{"customers-csv-sjis.eml", "xlsx-pii.eml", "mixed-attachments.eml"}, nil},
		// a list of the index's own records: every row a record, each
		// of its values looked up
		{"records", nil, [][]byte{ownRecordsMail()}},
	} {
		msgs := set.gen
		for _, name := range set.files {
			raw, err := os.ReadFile(filepath.Join("../../testdata/rules", name))
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, raw)
		}
		if set.gen != nil { // the records are found: each row is matched in full
			rep, _, err := with.Analyze(context.Background(), bytes.NewReader(set.gen[0]), Envelope{})
			if err != nil {
				b.Fatal(err)
			}
			if got := edmRecords(rep); got != 60 {
				b.Fatalf("%s: %d records found, want 60", set.name, got)
			}
		}
		runtime.GC()
		b.Run(set.name, func(b *testing.B) {
			// One OS thread, so that its CPU clock is the analysis's.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var tBase, tWith, cBase, cWith time.Duration
			var ratios, cpuRatios []float64
			for i := 0; b.Loop(); i++ {
				m := msgs[i%len(msgs)]
				first, second, t1st, t2nd, c1st, c2nd := base, with, &tBase, &tWith, &cBase, &cWith
				if i%2 == 1 { // alternate the order too
					first, second, t1st, t2nd, c1st, c2nd = with, base, &tWith, &tBase, &cWith, &cBase
				}
				t0, c0 := time.Now(), threadCPU()
				if _, _, err := first.Analyze(context.Background(), bytes.NewReader(m), Envelope{}); err != nil {
					b.Fatal(err)
				}
				t1, c1 := time.Now(), threadCPU()
				if _, _, err := second.Analyze(context.Background(), bytes.NewReader(m), Envelope{}); err != nil {
					b.Fatal(err)
				}
				t2, c2 := time.Now(), threadCPU()
				before := [4]time.Duration{tBase, tWith, cBase, cWith}
				*t1st += t1.Sub(t0)
				*t2nd += t2.Sub(t1)
				*c1st += c1 - c0
				*c2nd += c2 - c1
				ratios = append(ratios, float64(tWith-before[1])/float64(tBase-before[0]))
				cpuRatios = append(cpuRatios, float64(cWith-before[3])/float64(cBase-before[2]))
			}
			n := float64(b.N)
			b.ReportMetric(float64(tBase.Nanoseconds())/n, "ns-base/msg")
			b.ReportMetric(float64(tWith.Nanoseconds())/n, "ns-edm/msg")
			b.ReportMetric(100*(float64(tWith)/float64(tBase)-1), "%overhead")
			// the median of the per-message ratios shrugs off load spikes
			// that hit one side of a pair
			slices.Sort(ratios)
			b.ReportMetric(100*(ratios[len(ratios)/2]-1), "%overhead-median")
			// CPU time of the analysing thread: what other processes on a
			// loaded machine take does not count
			b.ReportMetric(100*(float64(cWith)/float64(cBase)-1), "%overhead-cpu")
			slices.Sort(cpuRatios)
			b.ReportMetric(100*(cpuRatios[len(cpuRatios)/2]-1), "%overhead-cpu-median")
		})
	}
}

func edmRecords(rep *rules.Report) int {
	for _, f := range rep.Findings {
		if f.Detector == DetectorEDM {
			return f.Records
		}
	}
	return 0
}

// ownRecordsMail is a mail carrying a CSV of 60 records of the
// benchmark's index (edmIndex), spread over it.
func ownRecordsMail() []byte {
	var csv strings.Builder
	csv.WriteString("name,kana,phone,email,customer_id\n")
	for k := range 60 {
		c := customerAt(k * 16_661 % 1_000_000)
		fmt.Fprintf(&csv, "%s,%s,%s,%s,%s\n", c.name, c.kana, c.phone, c.email, c.id)
	}
	return []byte(mailWith("bob@partner.example", "顧客リストを送付します。", []byte(csv.String()), "customers.csv", "text/csv"))
}

// BenchmarkEDMMatchLists profiles the matching alone over the extracted
// texts of the list-bearing messages of BenchmarkInspectEDM, and reports
// its thread CPU time as a share of the analysis without EDM of the same
// messages, measured alternately in the same loop.
func BenchmarkEDMMatchLists(b *testing.B) {
	ix := edmIndex(b, 1_000_000)
	base, err := New(Config{InternalDomains: []string{"example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	var parts []extract.Part
	var msgs [][]byte
	for _, name := range []string{"customers-csv-sjis.eml", "xlsx-pii.eml", "mixed-attachments.eml"} {
		raw, err := os.ReadFile(filepath.Join("../../testdata/rules", name))
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		_, err = extract.Walk(context.Background(), bytes.NewReader(raw), extract.DefaultLimits(), func(p *extract.Part) error {
			if len(p.Text) > 0 {
				parts = append(parts, extract.Part{Text: bytes.Clone(p.Text), Tabular: p.Tabular})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	size := 0
	for _, p := range parts {
		size += len(p.Text)
	}
	b.SetBytes(int64(size))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cMatch, cBase time.Duration
	for b.Loop() {
		c0 := threadCPU()
		for _, p := range parts {
			ix.Match(p.Text, p.Tabular)
		}
		c1 := threadCPU()
		for _, m := range msgs {
			if _, _, err := base.Analyze(context.Background(), bytes.NewReader(m), Envelope{}); err != nil {
				b.Fatal(err)
			}
		}
		cMatch += c1 - c0
		cBase += threadCPU() - c1
	}
	b.ReportMetric(100*float64(cMatch)/float64(cBase), "%match/analysis-cpu")
}
