package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sendguard/sendguard/gateway"
)

// debugCmd: `sendguard debug pprof` fetches a profile from the running
// gateway over its admin socket (the web listener never serves profiles).
//
//	sendguard debug pprof -cpu 10s -o cpu.pprof
//	sendguard debug pprof -heap -o heap.pprof
//	go tool pprof -top cpu.pprof
func debugCmd(args []string) error {
	if len(args) == 0 || args[0] != "pprof" {
		return errors.New("usage: sendguard debug pprof -cpu DURATION | -heap | -profile NAME  -o FILE [-config FILE]")
	}
	fs := flag.NewFlagSet("debug pprof", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	cpu := fs.Duration("cpu", 0, "record a CPU profile for this long (e.g. 10s)")
	heap := fs.Bool("heap", false, "write a heap profile (after a garbage collection)")
	name := fs.String("profile", "", "write another runtime profile: allocs, goroutine, block, mutex, threadcreate")
	out := fs.String("o", "", "output file (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var path string
	switch {
	case *cpu > 0 && !*heap && *name == "":
		if *cpu > gateway.MaxCPUProfile {
			return fmt.Errorf("-cpu: at most %s", gateway.MaxCPUProfile)
		}
		path = fmt.Sprintf("/debug/pprof/profile?seconds=%g", cpu.Seconds())
	case *heap && *cpu == 0 && *name == "":
		path = "/debug/pprof/heap?gc=1"
	case *name != "" && *cpu == 0 && !*heap:
		path = "/debug/pprof/" + *name
	default:
		return errors.New("give exactly one of -cpu DURATION, -heap, -profile NAME")
	}
	if *out == "" {
		return errors.New("-o FILE is required (a profile is binary)")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	c := adminClient(filepath.Join(cfg.DataDir, gateway.AdminSocket))
	c.hc.Timeout = *cpu + 30*time.Second
	resp, err := c.hc.Get("http://sendguard" + path)
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
