package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebugPprof takes a heap and a CPU profile from a running gateway
// through its admin socket with the CLI, reads them back with
// `go tool pprof`, and checks that the public web listener serves neither.
func TestDebugPprof(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()

	dir := t.TempDir()
	heap, cpu := filepath.Join(dir, "heap.pprof"), filepath.Join(dir, "cpu.pprof")
	if out, err := in.cli("debug", "pprof", "-heap", "-o", heap); err != nil {
		t.Fatalf("debug pprof -heap: %v\n%s", err, out)
	}
	if out, err := in.cli("debug", "pprof", "-cpu", "1s", "-o", cpu); err != nil {
		t.Fatalf("debug pprof -cpu: %v\n%s", err, out)
	}
	for _, c := range []struct{ file, want string }{{heap, "inuse_space"}, {cpu, "cpu"}} {
		out, err := exec.Command("go", "tool", "pprof", "-raw", c.file).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool pprof %s: %v\n%s", c.file, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%s: pprof output lacks sample type %q:\n%.500s", c.file, c.want, out)
		}
	}
	if fi, err := os.Stat(heap); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("heap profile mode: %v %v", fi, err)
	}

	if out, err := in.cli("debug", "pprof", "-cpu", "1s", "-heap", "-o", cpu); err == nil {
		t.Errorf("-cpu with -heap accepted:\n%s", out)
	}
	if out, err := in.cli("debug", "pprof", "-profile", "nosuch", "-o", cpu); err == nil || !strings.Contains(out, "no profile") {
		t.Errorf("unknown profile: %v\n%s", err, out)
	}

	for _, p := range []string{"/debug/pprof/heap", "/debug/pprof/profile?seconds=1", "/debug/pprof/", "/debug/pprof/goroutine"} {
		resp, err := http.Get("http://" + in.web + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("web listener serves %s", p)
		}
	}
}
