package main

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// defaultProcs is the runtime's GOMAXPROCS default for this machine (CPU
// affinity and cgroup quota included), which a child process shares.
func defaultProcs() int {
	old := runtime.GOMAXPROCS(0)
	runtime.SetDefaultGOMAXPROCS()
	d := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(old)
	return d
}

// TestSetProcs: serve runs twice the runtime's default Ps, the same on a
// second call, and leaves a GOMAXPROCS from the environment alone.
func TestSetProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	d := defaultProcs()
	noEnv := func(string) string { return "" }
	for i := 0; i < 2; i++ {
		if n := setProcs(noEnv); n != procsPerCore*d || runtime.GOMAXPROCS(0) != n {
			t.Fatalf("call %d: setProcs %d, GOMAXPROCS %d, want %d", i+1, n, runtime.GOMAXPROCS(0), procsPerCore*d)
		}
	}
	runtime.GOMAXPROCS(3)
	env := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if n := setProcs(env); n != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Fatalf("with GOMAXPROCS=3 in the environment: setProcs %d, GOMAXPROCS %d", n, runtime.GOMAXPROCS(0))
	}
}

// TestServeProcs: the running gateway reports the Ps it runs in its start
// line: twice the default, or what GOMAXPROCS in its environment says.
func TestServeProcs(t *testing.T) {
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			base = append(base, kv)
		}
	}
	re := regexp.MustCompile(`sendguard started.*gomaxprocs=(\d+)`)
	for _, c := range []struct {
		env  []string
		want int
	}{
		{base, procsPerCore * defaultProcs()},
		{append(base[:len(base):len(base)], "GOMAXPROCS=3"), 3},
	} {
		in := newInstance(t, "", "")
		in.env = c.env
		in.start()
		// The line follows the listeners' start by a moment.
		var m []string
		for i := 0; i < 100 && m == nil; i++ {
			if m = re.FindStringSubmatch(in.logs()); m == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if m == nil {
			t.Fatalf("no gomaxprocs in the start line:\n%s", in.logs())
		}
		if n, _ := strconv.Atoi(m[1]); n != c.want {
			t.Errorf("gomaxprocs=%d, want %d", n, c.want)
		}
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
	}
}
