package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// processCPU is this process's user+system CPU time: on a shared, loaded
// machine it moves far less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkXLSXSizes walks a mail with a workbook at two sizes, four times
// apart, and reports CPU time per op next to wall time (the goal for the
// 10 MB one is under 0.4 s). The "inflate" sub-benchmarks only decompress
// every part of the same workbook: the floor a walk cannot go below, as a
// baseline measured in the same run.
func BenchmarkXLSXSizes(b *testing.B) {
	for _, rows := range []int{70_000, 280_000} {
		xlsx := bigXLSX(b, rows)
		data := buildMail(attachPart("big.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx))
		lim := DefaultLimits()
		lim.MaxPartText = 256 << 20
		b.Run(fmt.Sprintf("%.1fMB", float64(len(xlsx))/1e6), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			runtime.GC() // the workbook's construction is not the walk's garbage
			cpu0 := processCPU()
			for b.Loop() {
				n := 0
				_, err := Walk(context.Background(), bytes.NewReader(data), lim, func(p *Part) error {
					n += bytes.Count(p.Text, []byte{'\n'})
					return nil
				})
				if err != nil || n < rows {
					b.Fatal(err, n)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		})
		b.Run(fmt.Sprintf("%.1fMB/inflate", float64(len(xlsx))/1e6), func(b *testing.B) {
			b.SetBytes(int64(len(xlsx)))
			runtime.GC()
			cpu0 := processCPU()
			for b.Loop() {
				zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range zr.File {
					rc, err := f.Open()
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
