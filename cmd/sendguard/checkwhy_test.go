package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// A reviewer sees why a finding was made, in both outputs, without the value.
func TestCheckExplainsFindings(t *testing.T) {
	cfg, _ := loadConfig("")
	insp, err := newRulesInspector(cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../testdata/detect/corpus/*-issue-tsv-body.eml")
	if len(files) != 1 {
		t.Fatalf("corpus file for the issue's pasted table: %q", files)
	}
	out, err := checkFile(insp, files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for _, f := range out.Findings {
		if f.Detector == "mynumber" {
			why = f.Why
		}
	}
	if len(why) == 0 || !strings.Contains(strings.Join(why, " "), "column header") {
		t.Fatalf("mynumber why = %q, want a column header", why)
	}
	var b bytes.Buffer
	printCheck(&b, out)
	if !strings.Contains(b.String(), "[high confidence; why: check digit ok; column header") {
		t.Errorf("text output lacks the explanation:\n%s", b.String())
	}
}
