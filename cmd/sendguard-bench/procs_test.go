package main

import (
	"os"
	"os/exec"
	"testing"
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
