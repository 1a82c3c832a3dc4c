//go:build unix

package extract

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// sparePIDs lists the spares waiting in sb.
func sparePIDs(sb *Sandbox) []int {
	sb.spareMu.Lock()
	defer sb.spareMu.Unlock()
	var pids []int
	for _, c := range sb.idle {
		pids = append(pids, c.cmd.Process.Pid)
	}
	return pids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A spare worker is started ahead, waits idle with only the limits that
// need no budget, serves
// exactly one file under that file's budget, is replaced, and is retired
// when left idle.
func TestSpareWorkers(t *testing.T) {
	requireProc(t)
	defer func(d time.Duration) { spareIdle = d }(spareIdle)
	spareIdle = 5 * time.Second
	ja := pdfMail("住民票.pdf", fixtureAttachment(t, "pdf-ja.eml", "住民票.pdf"))
	bomb := pdfMail("bomb.pdf", pdfBomb(t))
	forEachWorker(t, func(t *testing.T, k workerKind) {
		sb := k.sandbox(1)
		sb.SetSpares(1)
		lim := Limits{Sandbox: sb}
		_, parts := walkBytes(t, ja, lim)
		want := part(t, parts, "attachment:住民票.pdf", 0).Text
		if len(want) == 0 {
			t.Fatal("no text from the first PDF")
		}
		waitFor(t, "a spare", func() bool { return sb.Spares() == 1 })
		spare := sparePIDs(sb)[0]
		// it waits with the limits that need no budget, not the budget's
		var limits []byte
		waitFor(t, "the spare's first limits", func() bool {
			limits, _ = os.ReadFile(fmt.Sprintf("/proc/%d/limits", spare))
			return bytes.Contains(limits, []byte("Max open files            32"))
		})
		if !bytes.Contains(limits, []byte("Max cpu time              unlimited")) {
			t.Fatalf("the waiting spare has a CPU limit before its budget:\n%s", limits)
		}
		// the next file goes to that spare, which confines itself and answers alike
		_, parts = walkBytes(t, ja, lim)
		if got := part(t, parts, "attachment:住民票.pdf", 0).Text; !bytes.Equal(got, want) {
			t.Fatalf("text through the spare differs:\n%q\n%q", got, want)
		}
		if pid := int(sb.lastPID.Load()); pid != spare {
			t.Fatalf("the file went to worker %d, not the spare %d", pid, spare)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", spare)); err == nil {
			t.Fatalf("spare %d still alive after its file: a spare serves one file", spare)
		}
		// budgets bind a spare as they bind a worker started for its file
		for _, tc := range budgetCases {
			if tc.name == "memory" && raceEnabled && k.program == "" {
				continue // the race detector's shadow memory defeats a small address-space budget
			}
			waitFor(t, "a spare", func() bool { return sb.Spares() == 1 })
			spare := sparePIDs(sb)[0]
			l := tc.lim
			l.MaxRatio, l.MaxInflated, l.Timeout, l.Sandbox = 1<<20, 1<<40, 2*time.Minute, sb
			_, parts := walkBytes(t, bomb, l)
			if got := part(t, parts, "attachment:bomb.pdf", 0).Unscannable; got != tc.reason {
				t.Fatalf("%s: unscannable = %q, want %q", tc.name, got, tc.reason)
			}
			if pid := int(sb.lastPID.Load()); pid != spare {
				t.Fatalf("%s: the bomb went to worker %d, not the spare %d", tc.name, pid, spare)
			}
		}
		// left idle, the spare is retired and reaped; nothing else is left
		waitFor(t, "the idle spare's retirement", func() bool {
			return sb.Spares() == 0 && len(workerPIDs(t)) == 0
		})
		if sb.Running() != 0 {
			t.Errorf("%d workers running", sb.Running())
		}
	})
}

// A spare that is never given a file gets end of input when retired and
// exits as a worker without a request does; its outputs go nowhere.
func TestSpareRetiredUnused(t *testing.T) {
	requireProc(t)
	defer func(d time.Duration) { spareIdle = d }(spareIdle)
	spareIdle = 500 * time.Millisecond
	sb := workerKind{"program", workerProgram(t)}.sandbox(1)
	sb.SetSpares(2)
	exe := sb.Program()
	sb.refill(exe, "pdf")
	waitFor(t, "two spares", func() bool { return sb.Spares() == 2 })
	pids := sparePIDs(sb)
	waitFor(t, "retirement", func() bool { return sb.Spares() == 0 })
	for _, pid := range pids {
		waitFor(t, fmt.Sprintf("spare %d gone", pid), func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
			return err != nil
		})
	}
	if left := workerPIDs(t); len(left) != 0 {
		t.Fatalf("workers left: %v", left)
	}
	// a spare of another program or mode is not taken
	spareIdle = 5 * time.Second
	sb.refill(exe, "pdf")
	waitFor(t, "a spare", func() bool { return sb.Spares() == 2 })
	if c := sb.takeSpare(exe+"-other", "pdf"); c != nil {
		t.Fatal("took a spare of another program")
	}
	if c := sb.takeSpare(exe, "other"); c != nil {
		t.Fatal("took a spare of another mode")
	}
	if sb.Spares() != 2 {
		t.Fatalf("%d spares after takes that found none, want 2", sb.Spares())
	}
	waitFor(t, "retirement", func() bool { return sb.Spares() == 0 && len(workerPIDs(t)) == 0 })
}
