package spool_test

import (
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/spool"
)

// TestFsyncDuringDerivedWrites measures the storage part of acceptance —
// a small body written and fsynced, the directory fsynced — while another
// goroutine writes 2 MiB derived copies back to back (a release's zips),
// with Store.DerivedPace's chunked writeback on and off, alternating in
// one run. It isolates the file system from the CPU, which a busy shared
// machine makes noisy. A measurement: SENDGUARD_LOAD=1, rounds
// SENDGUARD_LOAD_AB (default 3).
func TestFsyncDuringDerivedWrites(t *testing.T) {
	if os.Getenv("SENDGUARD_LOAD") == "" {
		t.Skip("set SENDGUARD_LOAD=1 to run the load measurement")
	}
	rounds, _ := strconv.Atoi(os.Getenv("SENDGUARD_LOAD_AB"))
	if rounds <= 0 {
		rounds = 3
	}
	st, err := spool.Open(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	big := make([]byte, 2<<20)
	rand.Read(big)
	small := []byte("From: <bob@example.com>\r\nSubject: ping\r\n\r\nping\r\n")

	accept := func() time.Duration {
		t0 := time.Now()
		id := spool.NewID()
		bw, err := st.Create(id)
		if err != nil {
			t.Fatal(err)
		}
		bw.Write(small)
		if _, err := bw.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := st.SyncDir(); err != nil {
			t.Fatal(err)
		}
		d := time.Since(t0)
		st.RemoveBody(id)
		return d
	}
	measure := func(busy bool) []time.Duration {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		if busy {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := spool.NewID()
					bw, err := st.CreateDerived(id, "out")
					if err != nil {
						t.Error(err)
						return
					}
					for off := 0; off < len(big); off += 32 << 10 {
						bw.Write(big[off : off+32<<10])
					}
					if _, err := bw.Commit(); err != nil {
						t.Error(err)
						return
					}
					st.RemoveBody(id)
				}
			}()
		}
		var lat []time.Duration
		for range 150 {
			lat = append(lat, accept())
			time.Sleep(3 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		return lat
	}
	pct := func(d []time.Duration, q int) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[(len(d)*q+99)/100-1]
	}
	pooled := map[string][2][]time.Duration{}
	for i := range rounds {
		for _, pace := range []int64{0, -1} {
			mode := "paced"
			if pace < 0 {
				mode = "unpaced"
			}
			st.DerivedPace = pace
			idle, busy := measure(false), measure(true)
			t.Logf("round %d %-8s idle p50 %s p99 %s; busy p50 %s p99 %s; ratio p50 %.2f× p99 %.2f×", i+1, mode,
				pct(idle, 50), pct(idle, 99), pct(busy, 50), pct(busy, 99),
				float64(pct(busy, 50))/float64(pct(idle, 50)), float64(pct(busy, 99))/float64(pct(idle, 99)))
			p := pooled[mode]
			pooled[mode] = [2][]time.Duration{append(p[0], idle...), append(p[1], busy...)}
		}
	}
	for _, mode := range []string{"paced", "unpaced"} {
		idle, busy := pooled[mode][0], pooled[mode][1]
		t.Logf("pooled %-8s idle p50 %s p99 %s; busy p50 %s p99 %s; ratio p50 %.2f× p99 %.2f×", mode,
			pct(idle, 50), pct(idle, 99), pct(busy, 50), pct(busy, 99),
			float64(pct(busy, 50))/float64(pct(idle, 50)), float64(pct(busy, 99))/float64(pct(idle, 99)))
	}
}
