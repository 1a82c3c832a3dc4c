package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// walkStreamBytes walks data with WalkStream, each part's text collected
// from its sink, and returns parts shaped as walkBytes returns them.
func walkStreamBytes(t testing.TB, data []byte, lim Limits) (*Message, []Part) {
	t.Helper()
	var parts []Part
	opened := map[io.Writer]bool{}
	open := func(loc string, tabular bool) io.Writer {
		b := &bytes.Buffer{}
		opened[b] = true
		return b
	}
	msg, err := WalkStream(context.Background(), bytes.NewReader(data), lim, open, func(p *Part) error {
		if p.Text != nil {
			t.Errorf("%s: Text set under WalkStream", p.Location)
		}
		c := *p
		c.Sink = nil
		if p.Sink != nil {
			if !opened[p.Sink] {
				t.Errorf("%s: Sink is not a writer OpenFunc returned", p.Location)
			}
			delete(opened, p.Sink)
			c.Text = append([]byte(nil), p.Sink.(*bytes.Buffer).Bytes()...)
		}
		if p.Attachment != nil {
			a := *p.Attachment
			c.Attachment = &a
		}
		parts = append(parts, c)
		return nil
	})
	if err != nil {
		t.Fatalf("WalkStream: %v", err)
	}
	if len(opened) > 0 {
		t.Errorf("%d sinks opened but never handed to a part", len(opened))
	}
	return msg, parts
}

// sameWalk checks that WalkStream yields what Walk yields for data: the
// same parts in the same order with the same text, facts and errors.
func sameWalk(t *testing.T, name string, data []byte, lim Limits) {
	t.Helper()
	wm, wp := walkBytes(t, data, lim)
	sm, sp := walkStreamBytes(t, data, lim)
	for i := range wp {
		wp[i].hash, wp[i].hashed = 0, false
		if len(wp[i].Text) == 0 {
			wp[i].Text = nil
		}
	}
	for i := range sp {
		sp[i].hash, sp[i].hashed = 0, false
	}
	if len(wp) != len(sp) {
		t.Errorf("%s: Walk yielded %d parts, WalkStream %d", name, len(wp), len(sp))
		return
	}
	for i := range wp {
		a, b := wp[i], sp[i]
		if !bytes.Equal(a.Text, b.Text) {
			t.Errorf("%s: part %d (%s): text differs (%d vs %d bytes)", name, i, a.Location, len(a.Text), len(b.Text))
		}
		a.Text, b.Text = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: part %d differs:\nWalk       %+v\nWalkStream %+v", name, i, a, b)
		}
	}
	wm.Header, sm.Header = sm.Header, wm.Header // compared through the fields below
	if !reflect.DeepEqual(wm.Errors, sm.Errors) || wm.Size != sm.Size || wm.Parts != sm.Parts || wm.Incomplete != sm.Incomplete {
		t.Errorf("%s: messages differ:\nWalk       %d parts %d bytes %v %q\nWalkStream %d parts %d bytes %v %q",
			name, wm.Parts, wm.Size, wm.Incomplete, wm.Errors, sm.Parts, sm.Size, sm.Incomplete, sm.Errors)
	}
}

// TestWalkStreamSameAsWalk: streaming changes where the text goes, not
// what it is, for every fixture, the public corpus when present, and large
// generated attachments cut at the text limit and not.
func TestWalkStreamSameAsWalk(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	if len(files) < 10 {
		t.Fatalf("only %d fixtures", len(files))
	}
	if _, err := os.Stat("/work/shared/corpus/public"); err == nil {
		_ = filepath.WalkDir("/work/shared/corpus/public", func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
	}
	small := DefaultLimits()
	small.MaxPartText = 100 << 10
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameWalk(t, filepath.Base(p), data, DefaultLimits())
		sameWalk(t, filepath.Base(p)+" (100 KiB text)", data, small)
	}

	sjis := sjisCustomerCSV(t, 600<<10)
	utf8CSV := "\xef\xbb\xbf" + strings.Repeat("氏名,電話\r\n山田 太郎,090-1111-2222\r\n", 20000)
	plain := strings.Repeat("マイナンバー 1234 5678 9018 のご連絡。\r\n", 30000)
	gen := map[string][]byte{
		"sjis-declared": buildMail(attachPart("a.csv", "text/csv; charset=Shift_JIS", sjis)),
		"sjis-sniffed":  buildMail(attachPart("a.csv", "application/octet-stream", sjis)),
		"sjis-as-utf8":  buildMail(attachPart("a.csv", "text/csv; charset=utf-8", sjis)),
		"utf8-bom":      buildMail(attachPart("a.csv", "text/csv", []byte(utf8CSV))),
		"tsv-as-text":   buildMail(attachPart("a.txt", "text/plain", []byte(strings.ReplaceAll(utf8CSV, ",", "\t")))),
		"body-plain":    buildMail("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + plain),
		"body-sjis":     buildMail(attachPart("", "text/plain; charset=Shift_JIS", mustEncode(t, japanese.ShiftJIS, plain))),
		"xlsx":          buildMail(attachPart("b.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bigXLSX(t, 6000))),
	}
	for name, data := range gen {
		for _, lim := range []Limits{DefaultLimits(), small, {MaxPartText: streamChunk}, {MaxPartText: 3*streamChunk + 7}} {
			sameWalk(t, fmt.Sprintf("%s (%d)", name, lim.MaxPartText), data, lim)
		}
	}
}

// TestWalkStreamSinkError: a sink's error stops the walk like fn's.
func TestWalkStreamSinkError(t *testing.T) {
	data := buildMail(attachPart("a.csv", "text/csv; charset=Shift_JIS", sjisCustomerCSV(t, 300<<10)))
	boom := fmt.Errorf("sink full")
	called := 0
	_, err := WalkStream(context.Background(), bytes.NewReader(data), DefaultLimits(),
		func(string, bool) io.Writer { return failWriter{boom} },
		func(p *Part) error { called++; return nil })
	if err == nil || !strings.Contains(err.Error(), "sink full") {
		t.Fatalf("err = %v, want the sink's error", err)
	}
	if called != 0 {
		t.Errorf("fn called %d times after the sink failed", called)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// TestWalkStreamAllocationFlat: under WalkStream, what a walk allocates
// does not grow with the attachment: the same mail shape at two sizes,
// eight and five times apart, allocates the same number of objects within
// a small constant, and (for text, which needs no random access) the same
// bytes within a window's worth. Whole-text Walk, for contrast, allocates
// the text itself.
func TestWalkStreamAllocationFlat(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are the uninstrumented build's; the race detector makes this walk minutes long")
	}
	lim := DefaultLimits()
	lim.MaxPartText = 64 << 20
	measure := func(data []byte) (objects, bytes uint64) {
		walkCount(t, data, lim, true) // warm the pools and the decode tables
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		walkCount(t, data, lim, true)
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
	}
	csv := func(size int) []byte {
		return buildMail(attachPart("顧客.csv", "text/csv; charset=Shift_JIS", sjisCustomerCSV(t, size)))
	}
	xlsx := func(rows int) []byte {
		return buildMail(attachPart("顧客.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bigXLSX(t, rows)))
	}
	small, large := csv(1<<20), csv(8<<20)
	o1, b1 := measure(small)
	o8, b8 := measure(large)
	t.Logf("Shift_JIS CSV: %d KiB mail: %d objects, %d KiB; %d KiB mail: %d objects, %d KiB",
		len(small)>>10, o1, b1>>10, len(large)>>10, o8, b8>>10)
	if o8 > o1+64 || b8 > b1+2<<20 {
		t.Errorf("CSV allocation grows with size: %d → %d objects, %d → %d bytes", o1, o8, b1, b8)
	}
	if b8 > uint64(len(large))/8 {
		t.Errorf("CSV walk allocated %d bytes for a %d-byte mail", b8, len(large))
	}
	xs, xl := xlsx(20_000), xlsx(100_000)
	xo1, _ := measure(xs)
	xo5, _ := measure(xl)
	t.Logf("xlsx: %d KiB mail: %d objects; %d KiB mail: %d objects", len(xs)>>10, xo1, len(xl)>>10, xo5)
	if xo5 > xo1+64 {
		t.Errorf("xlsx allocation grows with size: %d → %d objects", xo1, xo5)
	}
}

// FuzzWalkStream: on any input WalkStream yields what Walk yields.
func FuzzWalkStream(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= 64<<10 {
			f.Add(data)
		}
	}
	lim := Limits{MaxDepth: 3, MaxEntries: 50, MaxInflated: 4 << 20, MaxRatio: 50, MaxPartText: 64 << 10,
		MaxMemory: 1 << 20, MaxAttachment: 2 << 20, Timeout: 10 * time.Second, PDFTimeout: time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameWalk(t, "input", data, lim)
	})
}
