package extract

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"testing"
)

// The cost of isolation on normal PDFs: the same extraction (pdfWork) run
// in this process and in a worker process.
//
//	go test ./rules/extract -run '^$' -bench 'PDF(InProcess|Isolated)'
func BenchmarkPDFInProcess(b *testing.B) {
	for _, c := range benchPDFs(b) {
		b.Run(c.name, func(b *testing.B) {
			bud := benchBudget()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if a := pdfWork(c.data, bud); a.status != statusText || len(a.payload) == 0 {
					b.Fatalf("status %c", a.status)
				}
			}
		})
	}
}

func BenchmarkPDFIsolated(b *testing.B) {
	sb := NewSandbox(1)
	for _, c := range benchPDFs(b) {
		b.Run(c.name, func(b *testing.B) {
			bud := benchBudget()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				a, err := sb.run(context.Background(), "pdf", bytes.NewReader(c.data), bud)
				if err != nil || a.status != statusText || len(a.payload) == 0 {
					b.Fatalf("%v", err)
				}
			}
		})
	}
}

func benchBudget() budget {
	l := DefaultLimits()
	return budget{wall: l.PDFTimeout, cpu: l.PDFCPU, memory: l.PDFMemory, maxIn: l.MaxAttachment,
		maxText: l.MaxPartText, ratio: l.MaxRatio, inflated: l.MaxInflated}
}

type benchPDF struct {
	name string
	data []byte
}

// benchPDFs: the Japanese fixture (CID fonts, one page) and a text-heavy
// page of 20,000 lines (≈300 KB of text).
func benchPDFs(b *testing.B) []benchPDF {
	var content strings.Builder
	content.WriteString("BT /F1 10 Tf 12 TL\n")
	for i := range 20000 {
		fmt.Fprintf(&content, "(Customer %05d Tokyo Chiyoda 03-1234-5678) Tj T*\n", i)
	}
	content.WriteString("ET")
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(content.String()))
	zw.Close()
	return []benchPDF{
		{"ja-fixture", fixtureAttachment(b, "pdf-ja.eml", "住民票.pdf")},
		{"20k-lines", pdfWithContent(z.Bytes(), "FlateDecode")},
	}
}

// BenchmarkWorkerStart is the fixed cost of one worker: start, confine,
// answer "not a PDF", exit, reap.
func BenchmarkWorkerStart(b *testing.B) {
	sb := NewSandbox(1)
	bud := benchBudget()
	for b.Loop() {
		a, err := sb.run(context.Background(), "pdf", strings.NewReader("not a pdf"), bud)
		if err != nil || a.status != statusError {
			b.Fatalf("%v", err)
		}
	}
}
