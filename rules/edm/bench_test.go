package edm

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// writeCSV writes n generated records (five fields each) as a UTF-8 CSV file.
func writeCSV(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "customers.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("name,kana,phone,email,customer_id\n")
	for i := range n {
		s, m1, m2 := i%10, (i/10)%10, (i/100)%10
		fmt.Fprintf(w, "%s %s%s%s,%s %s%s,090-%04d-%04d,user%d@example.net,C%07d\n",
			sei[s], mei1[m1], mei2[m2], sei[(i/1000)%10], seiK[s], mei1K[m1], mei2K[m2], i/10000, i%10000, i, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkImport1M imports 1,000,000 records (5,000,000 values) and
// reports the heap the process took from the OS.
func BenchmarkImport1M(b *testing.B) {
	src := writeCSV(b, 1_000_000)
	out := filepath.Join(b.TempDir(), "edm.idx")
	cols, _ := ParseColumns("name,kana,phone,email,customer_id")
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		bl, _ := NewBuilder(testKey, cols.Fields())
		if _, err := ImportCSV(bufio.NewReader(f), cols, HeaderAuto, bl); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if _, err := bl.WriteFile(out, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MB-heap-sys")
	t0 := time.Now()
	ix, err := Open(out, testKey)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "ms-open")
	fi, _ := os.Stat(out)
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB-index")
	_ = ix
}

// BenchmarkMatchShort is the matching of a short message body: what a
// part costs beyond its text (the pooled scanner, the Match).
func BenchmarkMatchShort(b *testing.B) {
	ix, _, _ := build(b, []byte(csvOf(people(1000), true)))
	text := []byte("お世話になっております。\n添付の資料をご確認ください。\n\nよろしくお願いいたします。\n")
	b.ReportAllocs()
	for b.Loop() {
		st := ix.NewStream(false)
		st.Write(text)
		st.Match()
	}
}

// BenchmarkMatchRows is the matching of a list's rows that are not the
// index's records (other people's names, addresses, phones and e-mail
// addresses): the candidates' reading, their SipHash and filter probe.
func BenchmarkMatchRows(b *testing.B) {
	ix, _, _ := build(b, []byte(csvOf(people(1000), true)))
	var text []byte
	for i := range 100 {
		text = fmt.Appendf(text, "%s %s\t%s都千代田区丸の内%d-%d-%d\t080-%04d-%04d\tp%d.%d@mail.example.jp\n",
			sei[i%10], mei1[i/10%10]+mei2[i%7], sei[i%9], i%9+1, i%20+1, i%30+1, 1000+i, 5000+3*i, i, i*7)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(text, true)
	}
}
