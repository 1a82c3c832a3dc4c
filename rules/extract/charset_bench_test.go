package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/sendguard/sendguard/rules/detect"
)

// sjisCustomerCSV is a Shift_JIS customer list of about size bytes.
func sjisCustomerCSV(tb testing.TB, size int) []byte {
	var b strings.Builder
	b.WriteString("顧客ID,氏名,ﾌﾘｶﾞﾅ,住所,電話番号,メールアドレス,備考\r\n")
	for i := 0; b.Len()*2/3 < size; i++ {
		fmt.Fprintf(&b, "C%07d,%s %s,ﾔﾏﾀﾞ ﾀﾛｳ,東京都千代田区丸の内%d-%d-%d,090-%04d-%04d,user%d@mail.example.jp,①㈱ 取引先（髙橋）\r\n",
			i, surnamesT[i%len(surnamesT)], givenT[i%len(givenT)], i%9+1, i%20+1, i%30+1, i%10000, (i*7)%10000, i)
	}
	return mustEncode(tb, japanese.ShiftJIS, b.String())
}

var charsetSink int

// BenchmarkShiftJISCSV decodes a Shift_JIS CSV at two sizes, eight times
// apart: x/text's whole-buffer decode (the previous path), decodeWith (the
// table-driven decoder into one buffer), a fixed 64 KiB window whose
// allocations must not grow with the input, and the window feeding the
// detectors. "ratio" sub-benchmarks time a plain byte pass over the same
// Shift_JIS bytes and the decode (+scan) alternately and report the best
// of each as pass/decode: the share of a byte pass's speed kept.
func BenchmarkShiftJISCSV(b *testing.B) {
	eng, err := detect.New(detect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{2 << 20, 16 << 20} {
		data := sjisCustomerCSV(b, size)
		window := func(scan bool) int {
			d := newTextDecoder(japanese.ShiftJIS)
			buf := make([]byte, 0, 2*decodeChunk)
			var doc *detect.Document
			if scan {
				doc = eng.NewDocument(true)
			}
			n := 0
			for in := data; len(in) > 0; {
				k := min(decodeChunk, len(in))
				buf = d.Append(buf[:0], in[:k], k == len(in))
				in = in[k:]
				n += len(buf)
				if doc != nil {
					doc.Write(buf)
				}
			}
			if doc != nil {
				n += doc.Result().Records
			}
			return n
		}
		b.Run(fmt.Sprintf("%dMB/xtext-whole", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				out, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), data)
				if err != nil {
					b.Fatal(err)
				}
				charsetSink += len(out)
			}
		})
		b.Run(fmt.Sprintf("%dMB/decode-whole", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				out, _ := decodeWith(japanese.ShiftJIS, data)
				charsetSink += len(out)
			}
		})
		b.Run(fmt.Sprintf("%dMB/decode-window", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				charsetSink += window(false)
			}
		})
		b.Run(fmt.Sprintf("%dMB/decode-window-ratio", size>>20), func(b *testing.B) {
			passRatio(b, data, func() int { return window(false) })
		})
		b.Run(fmt.Sprintf("%dMB/decode+scan-window-ratio", size>>20), func(b *testing.B) {
			passRatio(b, data, func() int { return window(true) })
		})
	}
}

// passRatio times a byte pass over data and f alternately and reports the
// best of each (loaded machines distort the best run least).
func passRatio(b *testing.B, data []byte, f func() int) {
	pass := func() int {
		n := 0
		for _, c := range data {
			if c == '\n' {
				n++
			}
		}
		return n
	}
	best := func(prev time.Duration, g func() int) time.Duration {
		t0 := time.Now()
		charsetSink += g()
		if d := time.Since(t0); prev == 0 || d < prev {
			return d
		}
		return prev
	}
	var tp, tf time.Duration
	for b.Loop() {
		tp = best(tp, pass)
		tf = best(tf, f)
	}
	mb := float64(len(data)) / 1e6
	b.ReportMetric(mb/tp.Seconds(), "pass-MB/s")
	b.ReportMetric(mb/tf.Seconds(), "MB/s")
	b.ReportMetric(tp.Seconds()/tf.Seconds(), "of-pass")
}

// TestDecodeWindowMatchesWhole: the windowed decode used above yields the
// same text as the whole-buffer decode (a cut at every 64 KiB boundary).
func TestDecodeWindowMatchesWhole(t *testing.T) {
	data := sjisCustomerCSV(t, 300<<10)
	whole, _ := decodeWith(japanese.ShiftJIS, data)
	got, bad := decodeChunked(japanese.ShiftJIS, data, decodeChunk-1, decodeChunk)
	if !bytes.Equal(got, whole) || bad != 0 {
		t.Fatalf("windowed decode differs (%d vs %d bytes, %d bad)", len(got), len(whole), bad)
	}
}
