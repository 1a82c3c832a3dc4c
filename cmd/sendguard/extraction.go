package main

import (
	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/extract"
)

// extractionLimits turns the extraction budgets into the walk's limits;
// fields the config leaves zero take extract's defaults. One Sandbox per
// inspector: serve builds one, so the concurrency cap is process-wide. A
// worker program that is named but cannot run is an error; an absent
// default one means this binary serves as the worker.
func extractionLimits(e config.Extraction) (extract.Limits, error) {
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
	prog, err := extract.FindProgram(e.Worker)
	if err != nil {
		return lim, err
	}
	lim.Sandbox = extract.NewSandbox(e.MaxConcurrent)
	lim.Sandbox.SetProgram(prog)
	lim.Sandbox.SetSpares(e.SpareWorkers)
	return lim, nil
}

// extractionWorker describes the worker program e selects, for the log.
func extractionWorker(e config.Extraction) string {
	p, err := extract.FindProgram(e.Worker)
	switch {
	case err != nil:
		return err.Error()
	case p != "":
		return p
	case e.Worker == "self":
		return "sendguard itself, re-executed (extraction.worker: self)"
	}
	return "sendguard itself, re-executed (no " + extract.ProgramName + " beside it)"
}
