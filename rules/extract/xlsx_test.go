package extract

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/xuri/excelize/v2"
)

// fixtureAttachment returns the decoded bytes of the named attachment of a
// fixture, read with go-message's own decoder.
func fixtureAttachment(t testing.TB, file, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := message.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		_, p, _ := part.Header.ContentDisposition()
		if p["filename"] == name {
			out, err = io.ReadAll(part.Body)
		}
		return err
	})
	if err != nil || out == nil {
		t.Fatalf("attachment %q of %s: %v", name, file, err)
	}
	return out
}

// TestXLSXMatchesExcelize checks the streaming sheet reader against
// excelize's GetRows on the same workbook, sheet by sheet.
func TestXLSXMatchesExcelize(t *testing.T) {
	data := fixtureAttachment(t, "xlsx-pii.eml", "社員名簿.xlsx")
	x, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, sheet := range x.GetSheetList() {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			line := strings.TrimRight(strings.Join(r, "\t"), "\t")
			if line != "" {
				want.WriteString(line + "\n")
			}
		}
	}
	_, parts := walkBytes(t, buildMail(attachPart("b.xlsx", "application/octet-stream", data)), DefaultLimits())
	got := string(part(t, parts, "attachment:b.xlsx", 0).Text)
	if got != want.String() {
		t.Errorf("rows differ from excelize:\n got %q\nwant %q", firstLines(got, 70), firstLines(want.String(), 70))
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

// bigXLSX writes a workbook of about size bytes with customer-like rows on
// two sheets, with excelize's stream writer (shared strings off, as large
// exports usually have inline or shared strings; both paths are read).
func bigXLSX(tb testing.TB, rows int) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	_, err := f.NewSheet("二")
	if err != nil {
		tb.Fatal(err)
	}
	for _, sheet := range []string{"Sheet1", "二"} {
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			tb.Fatal(err)
		}
		for i := 1; i <= rows/2; i++ {
			cell, _ := excelize.CoordinatesToCellName(1, i)
			err := sw.SetRow(cell, []any{
				fmt.Sprintf("%s %s", surnamesT[i%len(surnamesT)], givenT[i%len(givenT)]),
				fmt.Sprintf("東京都千代田区丸の内%d-%d-%d", i%9+1, i%20+1, i%30+1),
				fmt.Sprintf("090-%04d-%04d", i%10000, (i*7)%10000),
				fmt.Sprintf("user%d@mail.example.jp", i),
				i * 1000,
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

var (
	surnamesT = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村"}
	givenT    = []string{"太郎", "花子", "一郎", "美咲", "健太"}
)

func TestBigXLSXMatchesExcelize(t *testing.T) {
	data := bigXLSX(t, 2000)
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range x.GetSheetList() {
		rows, _ := x.GetRows(s)
		want += len(rows)
	}
	_, parts := walkBytes(t, buildMail(attachPart("big.xlsx", "application/octet-stream", data)), DefaultLimits())
	p := part(t, parts, "attachment:big.xlsx", 0)
	got := strings.Count(string(p.Text), "\n")
	if got != want || want != 2000 {
		t.Errorf("%d rows, excelize %d", got, want)
	}
	wantText(t, p, "鈴木 花子\t東京都千代田区丸の内2-2-2\t090-0001-0007\tuser1@mail.example.jp\t1000\n")
}
