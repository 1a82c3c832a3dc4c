package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/extract"
)

func TestExtractionLimitsFromConfig(t *testing.T) {
	lim, err := extractionLimits(config.Extraction{PDFTimeout: 7 * time.Second, PDFCPU: 3 * time.Second, PDFMemoryMB: 256, MaxConcurrent: 3})
	if err != nil || lim.PDFTimeout != 7*time.Second || lim.PDFCPU != 3*time.Second || lim.PDFMemory != 256<<20 || lim.Sandbox == nil {
		t.Fatalf("limits = %+v", lim)
	}
	if lim.Sandbox.SparesWanted() != 0 {
		t.Fatalf("spares %d, want none", lim.Sandbox.SparesWanted())
	}
	if two, err := extractionLimits(config.Extraction{SpareWorkers: 2}); err != nil || two.Sandbox.SparesWanted() != 2 {
		t.Fatalf("spare_workers: 2 gave %d spares (%v)", two.Sandbox.SparesWanted(), err)
	}
	if d := config.Defaults().Extraction.SpareWorkers; d != 1 {
		t.Fatalf("spare_workers defaults to %d, want 1", d)
	}
	// an unset section keeps extract's defaults
	def := extract.DefaultLimits()
	zero, err := extractionLimits(config.Extraction{})
	if err != nil {
		t.Fatal(err)
	}
	if zero.PDFTimeout != def.PDFTimeout || zero.PDFCPU != def.PDFCPU || zero.PDFMemory != def.PDFMemory || zero.MaxRatio != def.MaxRatio {
		t.Fatalf("zero config gave %+v, defaults %+v", zero, def)
	}
	// the config's defaults are extract's
	d := config.Defaults().Extraction
	if d.PDFTimeout != def.PDFTimeout || d.PDFCPU != def.PDFCPU || int64(d.PDFMemoryMB)<<20 != def.PDFMemory {
		t.Fatalf("config defaults %+v differ from extract's %+v", d, def)
	}
}

// extraction.worker: a named program must be runnable (a config error
// otherwise, never a silent fallback); "self" and an absent default
// program re-execute the gateway, which serves as its own worker.
func TestExtractionWorkerFromConfig(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, extract.ProgramName)
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lim, err := extractionLimits(config.Extraction{Worker: prog})
	if err != nil || lim.Sandbox.Program() != prog {
		t.Fatalf("worker %s: program %q, %v", prog, lim.Sandbox.Program(), err)
	}
	if got := extractionWorker(config.Extraction{Worker: prog}); got != prog {
		t.Errorf("logged worker %q", got)
	}
	lim, err = extractionLimits(config.Extraction{Worker: "self"})
	if err != nil || lim.Sandbox.Program() != "" {
		t.Fatalf("self: program %q, %v", lim.Sandbox.Program(), err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), dir} {
		if _, err := extractionLimits(config.Extraction{Worker: bad}); err == nil {
			t.Errorf("worker %s accepted", bad)
		}
	}
	os.Chmod(prog, 0o644)
	if _, err := extractionLimits(config.Extraction{Worker: prog}); err == nil {
		t.Error("non-executable worker accepted")
	}
	// the test binary has no sendguard-extract beside it
	if lim, err := extractionLimits(config.Extraction{}); err != nil || lim.Sandbox.Program() != "" {
		t.Errorf("default: program %q, %v", lim.Sandbox.Program(), err)
	}
}
