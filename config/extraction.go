package config

import (
	"path/filepath"
	"time"
)

// Extraction bounds the reading of attachments whose parser cannot be
// interrupted (PDF): each runs in a child process that these budgets end.
type Extraction struct {
	// PDFTimeout is the wall-clock budget of one PDF's text extraction.
	PDFTimeout time.Duration `yaml:"pdf_timeout"`
	// PDFCPU is its CPU budget (whole seconds).
	PDFCPU time.Duration `yaml:"pdf_cpu"`
	// PDFMemoryMB is the memory (address space) it may use, in MiB.
	PDFMemoryMB int64 `yaml:"pdf_memory_mb"`
	// MaxConcurrent caps extraction processes running at once; 0 means
	// one per CPU.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Worker is the program each extraction process runs: "" is
	// sendguard-extract next to the sendguard binary when it is there,
	// else sendguard itself re-executed; "self" is always the latter; an
	// absolute path names the program.
	Worker string `yaml:"worker"`
	// SpareWorkers is how many workers wait started ahead of the next PDF
	// (its start off the sender's wait); 0 starts each for its file.
	SpareWorkers int `yaml:"spare_workers"`
}

func defaultExtraction() Extraction {
	return Extraction{PDFTimeout: 15 * time.Second, PDFCPU: 10 * time.Second, PDFMemoryMB: 1024, SpareWorkers: 1}
}

func (v *validator) checkExtraction(e *Extraction) {
	if e.PDFTimeout < time.Second || e.PDFTimeout > 10*time.Minute {
		v.add("extraction.pdf_timeout", "must be between 1s and 10m")
	}
	if e.PDFCPU < time.Second || e.PDFCPU > 10*time.Minute {
		v.add("extraction.pdf_cpu", "must be between 1s and 10m")
	}
	if e.PDFMemoryMB < 64 || e.PDFMemoryMB > 64<<10 {
		v.add("extraction.pdf_memory_mb", "must be between 64 and 65536")
	}
	if e.MaxConcurrent < 0 || e.MaxConcurrent > 1024 {
		v.add("extraction.max_concurrent", "must be between 0 (one per CPU) and 1024")
	}
	if e.SpareWorkers < 0 || e.SpareWorkers > 64 {
		v.add("extraction.spare_workers", "must be between 0 and 64")
	}
	if e.Worker != "" && e.Worker != "self" && !filepath.IsAbs(e.Worker) {
		v.add("extraction.worker", `must be "self" or an absolute path`)
	}
}
