package main

import (
	"bytes"
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
	out, err := checkFile(insp, "../../testdata/detect/corpus/029-payment-table.eml", false)
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
