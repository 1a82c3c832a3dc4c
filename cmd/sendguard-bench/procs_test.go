package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A real line's shape: the name has a space and a parenthesis.
	line := "4242 (send guard) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 30 12 20 0 9 0 100 0 0"
	own, children, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if own != 3.25 || children != 0.42 {
		t.Fatalf("own %v children %v, want 3.25 and 0.42", own, children)
	}
	if _, _, err := parseStat("4242 (short) S 1 2"); err == nil {
		t.Fatal("a truncated line parsed")
	}
}

// TestChildCPUCounted: CPU spent by a waited-for child process (as each
// PDF's extraction worker is) shows in the children's share, so the load
// tool's per-message figures include it.
func TestChildCPUCounted(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, c0, err := cpuTimes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Busy for a few hundred ms of CPU, bounded by the loop count.
	cmd := exec.Command(sh, "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	used := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	_, c1, err := cpuTimes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if used.Seconds() < 0.05 {
		t.Skipf("the child used only %s", used)
	}
	if got := c1 - c0; got < used.Seconds()/2 {
		t.Fatalf("children's CPU rose by %.2fs, the child used %s", got, used)
	}
}

func TestParseMachineStat(t *testing.T) {
	s := "cpu  1000 50 400 90000 300 20 30 700 0 0\ncpu0 500 25 200 45000 150 10 15 350 0 0\n"
	got, err := parseMachineStat(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := 15.0; got != want { // user+nice+system+irq+softirq, not idle/iowait/steal
		t.Fatalf("busy %v, want %v", got, want)
	}
	if _, err := parseMachineStat("intr 1 2 3\n"); err == nil {
		t.Fatal("a line that is not the cpu total parsed")
	}
}

// TestMachineCPUCountsThisProcess: busy time on the machine rises at least
// by what this process burns.
func TestMachineCPUCountsThisProcess(t *testing.T) {
	m0, err := machineCPU()
	if err != nil {
		t.Skip(err)
	}
	s0, _, _ := cpuTimes(os.Getpid())
	x := 0
	for i := 0; i < 400_000_000 && x >= 0; i++ { // bounded busy loop
		x += i & 1
	}
	s1, _, _ := cpuTimes(os.Getpid())
	m1, err := machineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if s1-s0 < 0.05 {
		t.Skipf("the loop used only %.2fs", s1-s0)
	}
	if m1-m0 < (s1-s0)*0.8 {
		t.Fatalf("machine busy rose %.2fs while this process used %.2fs", m1-m0, s1-s0)
	}
}

func TestParseDiskStat(t *testing.T) {
	line := " 4456079   288494 95511778  1793142 55023705  2565976 1882743712 13017349        0  3909412 17458496  3803962    27328 1378660088   787668 11785771  1860335\n"
	d := parseDiskStat(line)
	if d.written != 1882743712*512 || d.flushes != 11785771 {
		t.Fatalf("got %+v", d)
	}
	old := parseDiskStat(" 1 2 3 4 5 6 7 8 9 10 11\n") // before Linux 5.5: no flush fields
	if old.written != 7*512 || old.flushes != 0 {
		t.Fatalf("got %+v", old)
	}
}

func TestFlagsRefused(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-sessions", "0"}, {"-class-n", "-1"}, {"-warmup", "-5"}, {"-rounds", "0"}, {"-rounds", "101"}, {"-rate", "-1"}, {"-rate", "NaN"}, {"-rate", "+Inf"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if o, err := parseFlags([]string{"-warmup", "10", "-postfix-first"}); err != nil || o.warmup != 10 || !o.postfixFirst {
		t.Errorf("-warmup 10 -postfix-first: %+v, %v", o, err)
	}
}

// TestMedianRound: the table shows the round with the median ratio (the
// lower middle one for an even count), by the gateway's rate without
// Postfix; median averages the middle two.
func TestMedianRound(t *testing.T) {
	ph := func(rate float64) *phase {
		start := time.Unix(0, 0)
		return &phase{n: int(rate * 10), send: &sendResult{start: start}, done: start.Add(10 * time.Second)}
	}
	rd := func(sg, pf float64) round {
		r := round{sendguard: ph(sg)}
		if pf > 0 {
			r.postfix = ph(pf)
		}
		return r
	}
	for _, tc := range []struct {
		rounds []round
		want   int
	}{
		{[]round{rd(100, 200)}, 0},
		{[]round{rd(300, 100), rd(90, 100), rd(100, 200)}, 1},             // ratios 3, 0.9, 0.5
		{[]round{rd(300, 100), rd(90, 100), rd(100, 200), rd(80, 80)}, 1}, // 3, 0.9, 0.5, 1
		{[]round{rd(50, 0), rd(70, 0), rd(60, 0)}, 2},
	} {
		if got := medianRound(tc.rounds); got != tc.want {
			t.Errorf("medianRound = %d, want %d", got, tc.want)
		}
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	if m := median([]float64{0.9}); m != 0.9 {
		t.Errorf("median = %v", m)
	}
}
