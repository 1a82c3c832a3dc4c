//go:build linux

package extract

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports a process that exists and is not a zombie.
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// A worker dies with the gateway (PR_SET_PDEATHSIG), whichever program it
// runs: the gateway killed outright leaves no parser burning CPU.
func TestWorkerDiesWithGateway(t *testing.T) {
	requireProc(t)
	forEachWorker(t, func(t *testing.T, k workerKind) {
		prog := k.program
		if prog == "" {
			prog = "self"
		}
		parent := exec.Command(os.Args[0], "-test.run=^$")
		parent.Env = append(os.Environ(), deathParentEnv+"="+prog)
		out, err := parent.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := parent.Start(); err != nil {
			t.Fatal(err)
		}
		defer parent.Process.Kill()
		line := make(chan string, 1)
		go func() {
			s := bufio.NewScanner(out)
			s.Scan()
			line <- s.Text()
		}()
		var pid int
		select {
		case l := <-line:
			pid, _ = strconv.Atoi(strings.TrimSpace(l))
		case <-time.After(30 * time.Second):
			t.Fatal("the stand-in gateway started no worker")
		}
		if pid <= 0 || !alive(pid) {
			t.Fatalf("worker %d not running", pid)
		}
		defer syscall.Kill(-pid, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond) // parsing the bomb
		parent.Process.Kill()
		parent.Wait()
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d outlived its gateway by 5s", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// The limits a worker sets on itself and its process group are the same
// whichever program it runs.
func TestWorkerLimitsSameForBothPrograms(t *testing.T) {
	requireProc(t)
	mail := pdfMail("bomb.pdf", pdfBomb(t))
	seen := map[string]string{}
	forEachWorker(t, func(t *testing.T, k workerKind) {
		sb := k.sandbox(1)
		lim := Limits{MaxRatio: 1 << 20, MaxInflated: 1 << 40, PDFTimeout: 3 * time.Second, PDFCPU: 7 * time.Second,
			PDFMemory: 512 << 20, Timeout: time.Minute, Sandbox: sb}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Walk(context.Background(), bytes.NewReader(mail), lim, func(*Part) error { return nil })
		}()
		defer func() { <-done }()
		var limits []byte
		var pid int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if pids := workerPIDs(t); len(pids) > 0 {
				pid = pids[0]
				limits, _ = os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
				if bytes.Contains(limits, []byte("Max open files            32")) {
					break
				}
			}
		}
		if pid == 0 || len(limits) == 0 {
			t.Fatal("no confined worker seen")
		}
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pid) {
			t.Errorf("worker %d is not its own process group: %v", pid, f[:min(3, len(f))])
		}
		var got []string
		for l := range strings.SplitSeq(string(limits), "\n") {
			for _, name := range []string{"Max cpu time", "Max file size", "Max core file size", "Max open files"} {
				if strings.HasPrefix(l, name) {
					got = append(got, strings.Join(strings.Fields(l), " "))
				}
			}
			if strings.HasPrefix(l, "Max address space") && strings.Contains(l, "unlimited") {
				t.Errorf("no address-space limit: %s", l)
			}
		}
		want := "Max cpu time 7 8 seconds|Max file size 0 0 bytes|Max core file size 0 0 bytes|Max open files 32 32 files"
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("limits %q, want %q", g, want)
		}
		seen[k.name] = strings.Join(got, "|")
	})
	if len(seen) == 2 && seen["program"] != seen["self"] {
		t.Errorf("limits differ: %q vs %q", seen["program"], seen["self"])
	}
}
