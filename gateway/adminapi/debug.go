package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// Profiles of a running gateway are served on the admin Unix socket only:
// a profile shows code paths and can hold fragments of live data, so it
// must never be reachable through the public web listener. runtime/pprof is
// used directly rather than net/http/pprof, whose init registers handlers
// on http.DefaultServeMux.

// MaxCPUProfile bounds one CPU profile so a forgotten request cannot keep
// the profiler (one at a time per process) busy.
const MaxCPUProfile = 5 * time.Minute

// registerDebug adds the profiling routes to the admin mux.
func registerDebug(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/profile", cpuProfile)
	mux.HandleFunc("GET /debug/pprof/{name}", namedProfile)
}

// cpuProfile records a CPU profile for ?seconds=N (default 10) and writes
// it in pprof's gzipped protobuf format.
func cpuProfile(w http.ResponseWriter, r *http.Request) {
	d := 10 * time.Second
	if s := r.URL.Query().Get("seconds"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n <= 0 {
			debugError(w, http.StatusBadRequest, fmt.Sprintf("seconds: want a positive number, got %q", s))
			return
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d > MaxCPUProfile {
		debugError(w, http.StatusBadRequest, fmt.Sprintf("seconds: at most %s", MaxCPUProfile))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="cpu.pprof"`)
	if err := pprof.StartCPUProfile(w); err != nil {
		// Another profile is running; nothing has been written yet.
		w.Header().Del("Content-Disposition")
		debugError(w, http.StatusConflict, "a CPU profile is already running: "+err.Error())
		return
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
	pprof.StopCPUProfile()
}

// namedProfile writes one of runtime/pprof's profiles (heap, allocs,
// goroutine, block, mutex, threadcreate). ?gc=1 runs a collection first
// so a heap profile shows live memory as of now.
func namedProfile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p := pprof.Lookup(name)
	if p == nil {
		debugError(w, http.StatusNotFound, fmt.Sprintf("no profile %q", name))
		return
	}
	if r.URL.Query().Get("gc") != "" {
		runtime.GC()
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".pprof"))
	p.WriteTo(w, 0) // a write error means the client went away
}

// debugError answers in the admin API's error shape ({"error": ...}),
// which the CLI prints.
func debugError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
