package linkpg_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linkpg"
	"github.com/sendguard/sendguard/queue/pgstore"
)

// BenchmarkStoreVsBolt stores and downloads a 16 MiB file with the bbolt
// store (files on local disk) and with linkpg, alternating the two in
// each round of the same run, and reports the median PostgreSQL/bbolt
// time ratios, and the peak heap growth during one PostgreSQL download
// (one chunk is held at a time, not the file).
//
// Run: go test ./link/linkpg -run '^$' -bench StoreVsBolt -benchtime 1x
func BenchmarkStoreVsBolt(b *testing.B) {
	const size = 16 << 20
	ctx := context.Background()
	dir := b.TempDir()
	key, err := link.LoadOrCreateKey(filepath.Join(dir, link.KeyFile))
	if err != nil {
		b.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, "b.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bolt, err := link.New(db, filepath.Join(dir, "links"), key, link.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pool, err := pgstore.Connect(ctx, pgtest.New(b), "")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	pg, err := linkpg.New(pool, key, link.Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	rand.Read(data)
	pkg := func() link.Package {
		return link.Package{MessageID: "<bench@test>", Sender: "a@example.com", Recipients: []string{"b@example.net"},
			Expires: time.Now().Add(time.Hour), Files: []link.FileIn{{Name: "f.bin", Reader: bytes.NewReader(data)}}}
	}
	timed := func(fn func()) float64 {
		t := time.Now()
		fn()
		return float64(time.Since(t))
	}
	var createRatio, downloadRatio, pgDownload []float64
	var peak uint64
	for range max(b.N, 5) {
		var times [2][2]float64
		for i, s := range []link.Storage{bolt, pg} {
			var c *link.Created
			times[i][0] = timed(func() {
				if c, err = s.Create(ctx, pkg()); err != nil {
					b.Fatal(err)
				}
			})
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			stop, grew := watchHeap(before.HeapAlloc)
			times[i][1] = timed(func() {
				fr, err := s.OpenFile(ctx, c.Links[0].Token.Hash(), 0, link.Client{})
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, fr); err != nil || n != size {
					b.Fatal(n, err)
				}
				fr.Close()
			})
			close(stop)
			if g := <-grew; i == 1 {
				peak = max(peak, g)
			}
		}
		createRatio = append(createRatio, times[1][0]/times[0][0])
		downloadRatio = append(downloadRatio, times[1][1]/times[0][1])
		pgDownload = append(pgDownload, size/(1<<20)/(times[1][1]/1e9))
	}
	b.ReportMetric(median(createRatio), "create-pg/bolt")
	b.ReportMetric(median(downloadRatio), "download-pg/bolt")
	b.ReportMetric(median(pgDownload), "pg-download-MiB/s")
	b.ReportMetric(float64(peak)/(1<<20), "pg-download-peak-heap-MiB")
}

// watchHeap samples the heap every millisecond until stop closes, then
// sends its largest growth over base.
func watchHeap(base uint64) (chan struct{}, chan uint64) {
	stop, out := make(chan struct{}), make(chan uint64, 1)
	go func() {
		var peak uint64
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base {
				peak = max(peak, m.HeapAlloc-base)
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return stop, out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
