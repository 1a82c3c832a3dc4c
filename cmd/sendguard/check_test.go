package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCheckGolden runs `check -json` over every fixture mail and compares
// with testdata/rules/golden/NAME.json (go test -run CheckGolden -update).
func TestCheckGolden(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	insp, err := newRulesInspector(cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../testdata/rules/*.eml")
	if len(files) < 10 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			out, err := checkFile(insp, f, false)
			if err != nil {
				t.Fatal(err)
			}
			out.File = filepath.Base(f)
			got, _ := json.MarshalIndent(out, "", "  ")
			got = append(got, '\n')
			golden := filepath.Join("../../testdata/rules/golden", name+".json")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("check output differs from %s:\n%s", golden, got)
			}
			// Nothing unmasked without -reveal.
			if bytes.Contains(got, []byte(`"values"`)) {
				t.Error("raw values printed without -reveal")
			}
		})
	}
}

func TestCheckRevealPrintsValues(t *testing.T) {
	cfg, _ := loadConfig("")
	insp, err := newRulesInspector(cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := checkFile(insp, "../../testdata/rules/iso2022jp.eml", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Findings {
		if f.Detector == "mynumber" {
			if len(f.Values) == 0 || strings.Contains(f.Values[0], "*") {
				t.Fatalf("reveal values = %q", f.Values)
			}
			return
		}
	}
	t.Fatal("no mynumber finding")
}
