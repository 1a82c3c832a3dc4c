package main

import (
	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/extract"
)

// extractionLimits turns the extraction budgets into the walk's limits;
// fields the config leaves zero take extract's defaults. One Sandbox per
// inspector: serve builds one, so the concurrency cap is process-wide.
func extractionLimits(e config.Extraction) extract.Limits {
	lim := extract.DefaultLimits()
	if e.PDFTimeout > 0 {
		lim.PDFTimeout = e.PDFTimeout
	}
	if e.PDFCPU > 0 {
		lim.PDFCPU = e.PDFCPU
	}
	if e.PDFMemoryMB > 0 {
		lim.PDFMemory = e.PDFMemoryMB << 20
	}
	lim.Sandbox = extract.NewSandbox(e.MaxConcurrent)
	return lim
}
