package disposition

import (
	"log/slog"
	"runtime"
	"testing"
)

// TestSpareProc: a step worker adds one P to GOMAXPROCS while it runs steps
// and gives it back when they end; two workers at once still add only
// one, a worker told not to adds none, and the count given back is the
// one found.
func TestSpareProc(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	base := runtime.GOMAXPROCS(0)
	// Each worker runs on a goroutine of its own: lowerPriority locks the
	// thread and lowers its priority, and the thread ends with it.
	run := func(spare bool, during func()) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			lowerPriority(log)
			restore := func() {}
			if spare {
				restore = spareProc()
			}
			during()
			restore()
		}()
		<-done
	}
	run(false, func() {
		if n := runtime.GOMAXPROCS(0); n != base {
			t.Errorf("without the spare P: GOMAXPROCS %d, want %d", n, base)
		}
	})
	run(true, func() {
		if n := runtime.GOMAXPROCS(0); n != base+1 {
			t.Errorf("while one worker runs: GOMAXPROCS %d, want %d", n, base+1)
		}
		run(true, func() {
			if n := runtime.GOMAXPROCS(0); n != base+1 {
				t.Errorf("while two workers run: GOMAXPROCS %d, want %d", n, base+1)
			}
		})
		if n := runtime.GOMAXPROCS(0); n != base+1 {
			t.Errorf("after the second worker ended: GOMAXPROCS %d, want %d", n, base+1)
		}
	})
	if n := runtime.GOMAXPROCS(0); n != base {
		t.Errorf("after both ended: GOMAXPROCS %d, want %d", n, base)
	}
	// A count the program set (sendguard serve sets its own) is what the
	// worker gives back, not the runtime's default.
	defer runtime.GOMAXPROCS(base)
	runtime.GOMAXPROCS(base + 3)
	run(true, func() {
		if n := runtime.GOMAXPROCS(0); n != base+4 {
			t.Errorf("with a count set: GOMAXPROCS %d, want %d", n, base+4)
		}
	})
	if n := runtime.GOMAXPROCS(0); n != base+3 {
		t.Errorf("with a count set, after the worker: GOMAXPROCS %d, want %d", n, base+3)
	}
}
