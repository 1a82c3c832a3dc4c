package detect

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

var benchSink int

// byteLoop is the baseline: a plain pass over every byte.
func byteLoop(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func benchPass(b *testing.B, data []byte, f func([]byte) int) {
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		benchSink += f(data)
	}
}

// benchRatio times the baseline and f alternately on the same bytes and
// reports the best run of each, which shared, loaded machines distort least,
// as MB/s and as the ratio f/baseline.
func benchRatio(b *testing.B, data []byte, f func([]byte) int) {
	best := func(prev time.Duration, g func([]byte) int) time.Duration {
		t0 := time.Now()
		benchSink += g(data)
		if d := time.Since(t0); prev == 0 || d < prev {
			return d
		}
		return prev
	}
	var loop, scan time.Duration
	for range b.N {
		loop = best(loop, byteLoop)
		scan = best(scan, f)
	}
	mb := float64(len(data)) / 1e6
	b.ReportMetric(mb/loop.Seconds(), "loop-MB/s")
	b.ReportMetric(mb/scan.Seconds(), "scan-MB/s")
	b.ReportMetric(loop.Seconds()/scan.Seconds(), "scan/loop")
}

func benchEngine(b *testing.B) *Engine {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkProse50MB: all detectors over 50 MB of business prose against a
// byte loop and bytes.Count over the same bytes.
func BenchmarkProse50MB(b *testing.B) {
	data := genProse(50<<20, 1)
	e := benchEngine(b)
	b.Run("byteloop", func(b *testing.B) { benchPass(b, data, byteLoop) })
	b.Run("bytes.Count", func(b *testing.B) {
		benchPass(b, data, func(d []byte) int { return bytes.Count(d, []byte{'\n'}) })
	})
	b.Run("scan", func(b *testing.B) {
		benchPass(b, data, func(d []byte) int { return len(e.Scan(d, false).Hits()) })
	})
	b.Run("ratio", func(b *testing.B) {
		benchRatio(b, data, func(d []byte) int { return len(e.Scan(d, false).Hits()) })
	})
	b.Run("document-64KiB", func(b *testing.B) {
		benchPass(b, data, func(d []byte) int {
			doc := e.NewDocument(false)
			for len(d) > 0 {
				n := min(64<<10, len(d))
				doc.Write(d[:n])
				d = d[n:]
			}
			return len(doc.Result().Hits())
		})
	})
}

// BenchmarkCustomerCSVShiftJIS: a Shift_JIS customer list (≈50 MB decoded)
// decoded with x/text and scanned as a table. MB/s of every sub-benchmark
// are over the decoded UTF-8 size so they compare directly.
func BenchmarkCustomerCSVShiftJIS(b *testing.B) {
	utf := genCustomerCSV(330_000, 2)
	sjis, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), utf)
	if err != nil {
		b.Fatal(err)
	}
	e := benchEngine(b)
	decode := func() []byte {
		out, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), sjis)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	b.Run("byteloop", func(b *testing.B) { benchPass(b, utf, byteLoop) })
	b.Run("bytes.Count", func(b *testing.B) {
		benchPass(b, utf, func(d []byte) int { return bytes.Count(d, []byte{'\n'}) })
	})
	b.Run("scan", func(b *testing.B) {
		benchPass(b, utf, func(d []byte) int { return e.Scan(d, true).Records })
	})
	b.Run("ratio", func(b *testing.B) {
		benchRatio(b, utf, func(d []byte) int { return e.Scan(d, true).Records })
	})
	b.Run("decode+scan-ratio", func(b *testing.B) {
		benchRatio(b, utf, func([]byte) int { return e.Scan(decode(), true).Records })
	})
	b.Run("decode", func(b *testing.B) {
		benchPass(b, utf, func([]byte) int { return len(decode()) })
	})
	b.Run("decode+scan", func(b *testing.B) {
		benchPass(b, utf, func([]byte) int { return e.Scan(decode(), true).Records })
	})
}

// BenchmarkMail100KB: a typical mail body.
func BenchmarkMail100KB(b *testing.B) {
	data := genProse(100<<10, 3)
	e := benchEngine(b)
	b.Run("byteloop", func(b *testing.B) { benchPass(b, data, byteLoop) })
	b.Run("scan", func(b *testing.B) {
		benchPass(b, data, func(d []byte) int { return len(e.Scan(d, false).Hits()) })
	})
	b.Run("ratio", func(b *testing.B) {
		benchRatio(b, data, func(d []byte) int { return len(e.Scan(d, false).Hits()) })
	})
}
