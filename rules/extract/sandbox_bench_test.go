//go:build unix

package extract

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/testpdf"
	"github.com/sendguard/sendguard/rules/extract/worker"
)

// The cost of isolation on normal PDFs: the same extraction (worker.PDF)
// run in this process and in a worker process, of each kind.
//
//	go test ./rules/extract -run '^$' -bench 'PDF(InProcess|Isolated)|WorkerStart' -count 3
//
// -count alternates the kinds within one run. SENDGUARD_BENCH_GATEWAY=path
// adds the gateway binary (go build ./cmd/sendguard) as a third worker
// program: what re-executing the gateway costs, as serve did before the
// dedicated worker. cpu-ms/op is this process's and its reaped workers'
// user+system CPU (getrusage RUSAGE_SELF + RUSAGE_CHILDREN) per PDF,
// child-cpu-ms/op the workers' alone.
func BenchmarkPDFInProcess(b *testing.B) {
	for _, c := range benchPDFs(b) {
		b.Run(c.name, func(b *testing.B) {
			bud := benchBudget()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if a := worker.PDF(c.data, bud); a.Status != statusText || len(a.Payload) == 0 {
					b.Fatalf("status %c", a.Status)
				}
			}
		})
	}
}

func BenchmarkPDFIsolated(b *testing.B) {
	for _, k := range benchKinds(b) {
		sb := k.sandbox(1)
		for _, c := range benchPDFs(b) {
			b.Run(k.name+"/"+c.name, func(b *testing.B) {
				bud := benchBudget()
				bud.MaxIn = int64(len(c.data)) // as the gateway sends it
				b.SetBytes(int64(len(c.data)))
				benchRuns(b, func() {
					a, err := sb.run(context.Background(), "pdf", bytes.NewReader(c.data), bud)
					if err != nil || a.Status != statusText || len(a.Payload) == 0 {
						b.Fatalf("%v", err)
					}
				})
			})
		}
	}
}

// BenchmarkPDFPipe: the 8 MB picture PDF from the gateway's memory chunks
// (spilled.reader) to the dedicated worker program, through a stdin pipe
// of the kernel's default 64 KiB and one grown to workerPipe, both in one
// run.
//
//	go test ./rules/extract -run '^$' -bench PDFPipe -count 6
func BenchmarkPDFPipe(b *testing.B) {
	k := workerKinds(b)[0]
	sb := k.sandbox(1)
	pdf := benchPDFs(b)[2]
	w := &walker{lim: DefaultLimits().withDefaults()}
	sp, err := w.spill(bytes.NewReader(pdf.data))
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	defer func(g bool) { growPipes = g }(growPipes)
	for _, grow := range []bool{false, true} {
		name := "pipe=64KiB"
		if grow {
			name = "pipe=1MiB"
		}
		b.Run(name, func(b *testing.B) {
			growPipes = grow
			bud := benchBudget()
			bud.MaxIn = sp.size
			b.SetBytes(sp.size)
			benchRuns(b, func() {
				a, err := sb.run(context.Background(), "pdf", sp.reader(), bud)
				if err != nil || a.Status != statusText || len(a.Payload) == 0 {
					b.Fatalf("%v", err)
				}
			})
		})
	}
}

// BenchmarkPDFHashAsync: the walk of a mail carrying the 8 MB picture PDF
// with its SHA-256 for the sent record taken before the worker runs, and
// on a goroutine while it runs, both in one run.
//
//	go test ./rules/extract -run '^$' -bench PDFHashAsync -count 6
func BenchmarkPDFHashAsync(b *testing.B) {
	sb := workerKinds(b)[0].sandbox(1)
	mail := pdfMail("report.pdf", benchPDFs(b)[2].data)
	defer func(a bool) { asyncHash = a }(asyncHash)
	for _, async := range []bool{false, true} {
		name := "hash=before"
		if async {
			name = "hash=beside"
		}
		b.Run(name, func(b *testing.B) {
			asyncHash = async
			lim := Limits{Sandbox: sb}
			b.SetBytes(int64(len(mail)))
			benchRuns(b, func() {
				m, parts := walkBytes(b, mail, lim)
				if !m.AttachmentsHashed || len(parts) < 2 {
					b.Fatalf("hashed %v, %d parts", m.AttachmentsHashed, len(parts))
				}
			})
		})
	}
}

// BenchmarkWorkerStart is the fixed cost of one worker: start, confine,
// answer "not a PDF", exit, reap.
func BenchmarkWorkerStart(b *testing.B) {
	for _, k := range benchKinds(b) {
		sb := k.sandbox(1)
		b.Run(k.name, func(b *testing.B) {
			bud := benchBudget()
			bud.MaxIn = int64(len("not a pdf"))
			benchRuns(b, func() {
				a, err := sb.run(context.Background(), "pdf", strings.NewReader("not a pdf"), bud)
				if err != nil || a.Status != statusError {
					b.Fatalf("%v", err)
				}
			})
		})
	}
}

func benchKinds(b *testing.B) []workerKind {
	kinds := workerKinds(b)
	if gw := os.Getenv("SENDGUARD_BENCH_GATEWAY"); gw != "" {
		kinds = append(kinds, workerKind{"gateway", gw})
	}
	return kinds
}

// benchRuns runs f b.N times and reports the CPU it cost, workers included.
func benchRuns(b *testing.B, f func()) {
	self0, child0 := rusage(b, syscall.RUSAGE_SELF), rusage(b, syscall.RUSAGE_CHILDREN)
	n := 0
	for b.Loop() {
		f()
		n++
	}
	self, child := rusage(b, syscall.RUSAGE_SELF)-self0, rusage(b, syscall.RUSAGE_CHILDREN)-child0
	b.ReportMetric(float64(self+child)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
	b.ReportMetric(float64(child)/float64(time.Millisecond)/float64(n), "child-cpu-ms/op")
}

func rusage(b *testing.B, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchBudget() worker.Budget {
	l := DefaultLimits()
	return worker.Budget{Wall: l.PDFTimeout, CPU: l.PDFCPU, Memory: l.PDFMemory, MaxIn: l.MaxAttachment,
		MaxText: l.MaxPartText, Ratio: l.MaxRatio, Inflated: l.MaxInflated}
}

type benchPDF struct {
	name string
	data []byte
}

// benchPDFs: the Japanese fixture (CID fonts, one page), a text-heavy
// page of 20,000 lines (≈300 KB of text), and a report of one line with
// an 8 MB picture (random pixels, as the load tool's corpus makes them):
// little to parse, much to read.
func benchPDFs(b *testing.B) []benchPDF {
	var content strings.Builder
	content.WriteString("BT /F1 10 Tf 12 TL\n")
	for i := range 20000 {
		fmt.Fprintf(&content, "(Customer %05d Tokyo Chiyoda 03-1234-5678) Tj T*\n", i)
	}
	content.WriteString("ET")
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	io.WriteString(zw, content.String())
	zw.Close()
	pixels := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{1}).Read(pixels)
	return []benchPDF{
		{"ja-fixture", fixtureAttachment(b, "pdf-ja.eml", "住民票.pdf")},
		{"20k-lines", pdfWithContent(z.Bytes(), "FlateDecode")},
		{"8MB-image", testpdf.WithImage("Monthly report No. 1001", pixels)},
	}
}
