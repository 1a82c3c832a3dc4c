package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// countSink counts the text a part's sink receives.
type countSink struct{ n int }

func (c *countSink) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// streamInputs are the mails of the streaming benchmarks and the
// allocation test: a Shift_JIS customer CSV and a workbook, each at about
// 1 MB and 10 MB.
func streamInputs(tb testing.TB) []struct {
	name string
	data []byte
} {
	var out []struct {
		name string
		data []byte
	}
	for _, mb := range []int{1, 10} {
		csv := sjisCustomerCSV(tb, mb<<20)
		out = append(out, struct {
			name string
			data []byte
		}{fmt.Sprintf("sjis-csv-%dMB", mb), buildMail(attachPart("顧客.csv", "text/csv; charset=Shift_JIS", csv))})
	}
	for _, rows := range []int{30_000, 300_000} {
		x := bigXLSX(tb, rows)
		out = append(out, struct {
			name string
			data []byte
		}{fmt.Sprintf("xlsx-%.0fMB", float64(len(x))/(1<<20)), buildMail(attachPart("顧客.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", x))})
	}
	return out
}

// walkCount walks data with Walk (stream false) or WalkStream and returns
// the bytes of text seen.
func walkCount(tb testing.TB, data []byte, lim Limits, stream bool) int {
	n := 0
	var err error
	if stream {
		_, err = WalkStream(context.Background(), bytes.NewReader(data), lim,
			func(string, bool) io.Writer { return &countSink{} },
			func(p *Part) error {
				if s, ok := p.Sink.(*countSink); ok {
					n += s.n
				}
				return nil
			})
	} else {
		_, err = Walk(context.Background(), bytes.NewReader(data), lim, func(p *Part) error {
			n += len(p.Text)
			return nil
		})
	}
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkWalkStream walks the same mails with Walk (the text of a part
// held whole in Part.Text) and WalkStream (written through the window) at
// 1 MB and 10 MB: B/op and allocs/op of WalkStream must not grow with the
// size of the attachment.
func BenchmarkWalkStream(b *testing.B) {
	lim := DefaultLimits()
	lim.MaxPartText = 64 << 20 // the whole 10 MB file, not the default cut
	for _, in := range streamInputs(b) {
		for _, mode := range []string{"whole", "stream"} {
			b.Run(in.name+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				for b.Loop() {
					if walkCount(b, in.data, lim, mode == "stream") == 0 {
						b.Fatal("no text")
					}
				}
			})
		}
	}
}

// BenchmarkWalkStreamRatio walks each mail with WalkStream and a byte pass
// over the same mail bytes alternately and reports the best of each as
// of-pass (walk speed / byte-pass speed; the goal for the Shift_JIS CSV is
// 0.2 or more). The walk includes MIME, base64, sniffing and decoding.
func BenchmarkWalkStreamRatio(b *testing.B) {
	lim := DefaultLimits()
	lim.MaxPartText = 64 << 20
	for _, in := range streamInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			passRatio(b, in.data, func() int { return walkCount(b, in.data, lim, true) })
		})
	}
}
