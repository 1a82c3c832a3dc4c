package main

import (
	"testing"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/extract"
)

func TestExtractionLimitsFromConfig(t *testing.T) {
	lim := extractionLimits(config.Extraction{PDFTimeout: 7 * time.Second, PDFCPU: 3 * time.Second, PDFMemoryMB: 256, MaxConcurrent: 3})
	if lim.PDFTimeout != 7*time.Second || lim.PDFCPU != 3*time.Second || lim.PDFMemory != 256<<20 || lim.Sandbox == nil {
		t.Fatalf("limits = %+v", lim)
	}
	// an unset section keeps extract's defaults
	def, zero := extract.DefaultLimits(), extractionLimits(config.Extraction{})
	if zero.PDFTimeout != def.PDFTimeout || zero.PDFCPU != def.PDFCPU || zero.PDFMemory != def.PDFMemory || zero.MaxRatio != def.MaxRatio {
		t.Fatalf("zero config gave %+v, defaults %+v", zero, def)
	}
	// the config's defaults are extract's
	d := config.Defaults().Extraction
	if d.PDFTimeout != def.PDFTimeout || d.PDFCPU != def.PDFCPU || int64(d.PDFMemoryMB)<<20 != def.PDFMemory {
		t.Fatalf("config defaults %+v differ from extract's %+v", d, def)
	}
}
