package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sendguard/sendguard/gateway/adminapi"
)

// debugCmd: `sendguard debug pprof` fetches a profile from the running
// gateway over its admin socket (the web listener never serves profiles).
//
//	sendguard debug pprof -cpu 10s -o cpu.pprof
//	sendguard debug pprof -heap -o heap.pprof
//	go tool pprof -top cpu.pprof
func debugCmd(args []string) error {
	c := newCommand("debug pprof", "debug pprof -cpu DURATION | -heap | -profile NAME  -o FILE [-config FILE]\n\nFetch a profile from the running gateway over its admin socket (never the web listener).")
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "pprof" {
		c.printUsage(os.Stderr)
		return usageError("unknown debug command %q", args[0])
	}
	fs := c.fs
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	cpu := fs.Duration("cpu", 0, "record a CPU profile for this long (e.g. 10s)")
	heap := fs.Bool("heap", false, "write a heap profile (after a garbage collection)")
	name := fs.String("profile", "", "write another runtime profile: allocs, goroutine, block, mutex, threadcreate")
	out := fs.String("o", "", "output file (required)")
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		c.printUsage(os.Stderr)
		return usageError("debug pprof takes no arguments")
	}
	var path string
	switch {
	case *cpu > 0 && !*heap && *name == "":
		if *cpu > adminapi.MaxCPUProfile {
			return fmt.Errorf("-cpu: at most %s", adminapi.MaxCPUProfile)
		}
		path = fmt.Sprintf("/debug/pprof/profile?seconds=%g", cpu.Seconds())
	case *heap && *cpu == 0 && *name == "":
		path = "/debug/pprof/heap?gc=1"
	case *name != "" && *cpu == 0 && !*heap:
		path = "/debug/pprof/" + *name
	default:
		return usageError("give exactly one of -cpu DURATION, -heap, -profile NAME")
	}
	if *out == "" {
		return usageError("-o FILE is required (a profile is binary)")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	ac := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	ac.hc.Timeout = *cpu + 30*time.Second
	resp, err := ac.hc.Get("http://sendguard" + path)
	if err != nil {
		return fmt.Errorf("cannot reach the running sendguard (is it running with this config?): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("admin API: %s: %s", resp.Status, b)
	}
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d bytes); read it with: go tool pprof %s\n", *out, n, *out)
	return nil
}
