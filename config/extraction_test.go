package config

import (
	"strings"
	"testing"
	"time"
)

func TestExtractionDefaultsAndValidation(t *testing.T) {
	c, err := Parse("t.yaml", []byte("extraction:\n  pdf_cpu: 4s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Extraction; e.PDFCPU != 4*time.Second || e.PDFTimeout != 15*time.Second || e.PDFMemoryMB != 1024 || e.MaxConcurrent != 0 || e.SpareWorkers != 1 {
		t.Fatalf("extraction = %+v", e)
	}
	_, err = Parse("t.yaml", []byte(`extraction:
  pdf_timeout: 0s
  pdf_cpu: 1h
  pdf_memory_mb: 8
  max_concurrent: -1
  worker: bin/sendguard-extract
  spare_workers: 65
`))
	if err == nil {
		t.Fatal("accepted bad extraction budgets")
	}
	for _, want := range []string{"line 2: extraction.pdf_timeout", "line 3: extraction.pdf_cpu",
		"line 4: extraction.pdf_memory_mb", "line 5: extraction.max_concurrent", "line 6: extraction.worker", "line 7: extraction.spare_workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestExtractionWorker(t *testing.T) {
	for _, w := range []string{"self", "/usr/lib/sendguard/sendguard-extract"} {
		c, err := Parse("t.yaml", []byte("extraction:\n  worker: "+w+"\n"))
		if err != nil || c.Extraction.Worker != w {
			t.Errorf("worker %q: %v", w, err)
		}
	}
}
