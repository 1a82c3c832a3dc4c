package detect

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
)

func peopleIn(t *testing.T, e *Engine, text string, tabular bool) int {
	t.Helper()
	n, _ := e.Scan([]byte(text), tabular).People()
	return n
}

func TestPeopleRecords(t *testing.T) {
	e := newTestEngine(t, Config{})
	cases := []struct {
		name    string
		text    string
		tabular bool
		want    int
	}{
		{"rows", "氏名,電話番号\n山田 太郎,090-1111-2222\n佐藤 花子,090-3333-4444\n", true, 2},
		{"repeated row", "氏名,電話番号\n山田 太郎,090-1111-2222\n山田 太郎,090-1111-2222\n", true, 1},
		// the second row shares the phone of the first: one person
		{"linked by phone", "氏名,電話番号,メール\n山田 太郎,090-1111-2222,a@x.example.jp\n山田 太郎,090-1111-2222,\n,,a@x.example.jp\n", true, 1},
		// name + address is the key when no identifier is on the row
		{"name and address", "氏名,住所\n山田 太郎,東京都千代田区丸の内1-1-1\n山田　太郎,東京都千代田区丸の内1-1-1\n山田 太郎,大阪府大阪市北区梅田2-2-2\n", true, 2},
		{"no personal columns", "品番,品名,単価\nA-1,ねじ,100\nA-2,ボルト,200\n", true, 0},
		{"pasted list", "宛先:\n山田様 090-1111-2222\n佐藤様 090-3333-4444\n山田様 090-1111-2222\n", false, 2},
		{"prose without data", "明日の会議は10時からです。\n", false, 0},
		// one person written over several lines, a signature
		{"signature", "よろしくお願いします。\n\n山田 太郎\nTEL: 03-1234-5678\nMail: yamada@example.com\n", false, 1},
		{"form records", "氏名：山田\n電話：090-1111-2222\nメール：a@x.example.jp\n氏名：佐藤\n電話：090-3333-4444\nメール：b@x.example.jp\n", false, 2},
		{"blank line parts records", "電話：090-1111-2222\n\nメール：b@x.example.jp\n", false, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := peopleIn(t, e, c.text, c.tabular); got != c.want {
				t.Errorf("people = %d, want %d", got, c.want)
			}
		})
	}
}

// Two attachments naming the same people count them once.
func TestTallyLinksResults(t *testing.T) {
	e := newTestEngine(t, Config{})
	a := e.Scan([]byte("氏名,メール,電話\n山田 太郎,a@x.example.jp,090-1111-2222\n佐藤 花子,b@x.example.jp,090-3333-4444\n"), true)
	b := e.Scan([]byte("氏名,電話\n山田 太郎,090-1111-2222\n鈴木 一郎,090-5555-6666\n"), true)
	tl := e.NewTally()
	if err := tl.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := tl.Add(b); err != nil {
		t.Fatal(err)
	}
	if n, approx := tl.People(); n != 3 || approx {
		t.Errorf("people = %d (approximate %v), want 3", n, approx)
	}
	if got, want := tl.DataItems(), []string{"氏名", "電話番号", "メールアドレス"}; !slices.Equal(got, want) {
		t.Errorf("data items %q, want %q", got, want)
	}
	other := newTestEngine(t, Config{})
	if err := other.NewTally().Add(a); err == nil {
		t.Error("a tally took another engine's result")
	}
}

// A 10 MB list is counted in bounded memory: past 4,096 people the exact
// map gives way to a 16 KiB sketch (≈0.8 % standard error; the bound is
// five of them, as the hash seed differs each run).
func TestPeopleBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("scans 10 MB")
	}
	e := newTestEngine(t, Config{})
	e.cfg.RetainValues = false
	const rows = 200_000
	doc := e.NewDocument(true)
	doc.Write([]byte("氏名,電話番号,メールアドレス\n"))
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	size := 0
	for i := range rows {
		line := fmt.Sprintf("顧客%d,090-%04d-%04d,user%d@example.net\n", i, i/10000, i%10000, i)
		size += len(line)
		doc.Write([]byte(line))
	}
	res := doc.Result()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	n, approx := res.People()
	if !approx {
		t.Errorf("200,000 people counted exactly")
	}
	if rel := math.Abs(float64(n-rows)) / rows; rel > 0.04 {
		t.Errorf("people = %d, want %d ± 4 %%", n, rows)
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d MB list: people ≈ %d, heap grew %d KiB", size>>20, n, grew>>10)
	if size < 8<<20 {
		t.Fatalf("list is only %d bytes", size)
	}
	if grew > 4<<20 {
		t.Errorf("heap grew %d KiB holding the result of a %d MB list", grew>>10, size>>20)
	}
}
