package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDetectConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "projects.txt")
	os.WriteFile(file, []byte("\xef\xbb\xbf# project code names\r\nオーロラ計画\r\n\r\nProject Nebula\r\n"), 0o644)
	c, err := Parse("t.yaml", []byte(`detect:
  dictionaries:
    - name: projects
      level: confidential
      file: `+file+`
      terms: [極光]
    - name: confidential
      terms: [部外秘, "CONFIDENTIAL – Internal Use"]
      exclude: [機密保持契約]
      exclude_near: [お取り扱いにご注意]
    - name: internal
      match: word
      terms: [社内資料]
  patterns:
    - name: project_code
      regex: 'PRJ-[0-9]{4}'
      context: [案件]
      window: 30
    - name: member
      regex: '[0-9]{16}'
      validator: luhn
  allow:
    test_values: true
    values: ["7000012050002", "03-1234-5678"]
`))
	if err != nil {
		t.Fatal(err)
	}
	dc := c.Detect.DetectConfig()
	if dc.NoBuiltinDictionary || len(dc.Dictionaries) != 3 || len(dc.Patterns) != 2 {
		t.Fatalf("detect config %+v", dc)
	}
	if got := dc.Dictionaries[0].Terms; !slices.Equal(got, []string{"極光", "オーロラ計画", "Project Nebula"}) {
		t.Errorf("projects terms %q", got)
	}
	if dc.Dictionaries[2].Mode != "word" || dc.Patterns[0].Window != 30 {
		t.Errorf("mode or window lost: %+v", dc)
	}
	if !slices.Contains(dc.Allow, "4111111111111111") || !slices.Contains(dc.Allow, "7000012050002") {
		t.Errorf("allow %q", dc.Allow)
	}

	c, err = Parse("t.yaml", []byte("detect:\n  builtin_dictionary: false\n  allow:\n    test_values: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if dc := c.Detect.DetectConfig(); !dc.NoBuiltinDictionary || len(dc.Allow) != 0 {
		t.Errorf("switches ignored: %+v", dc)
	}
	// Sample numbers are findings unless the site opts out: fail closed.
	if d := Defaults().Detect; !d.BuiltinDictionary || d.Allow.TestValues {
		t.Errorf("defaults %+v", d)
	}
}

// A dictionary or pattern that cannot be used refuses the configuration,
// naming the key, the YAML line and, for files, the file's line.
func TestDetectConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("機密\n\xff\xfe壊れ\n2025計画\n"+strings.Repeat("長", 70)+"\n"), 0o644)
	_, err := Parse("t.yaml", []byte(`detect:
  dictionaries:
    - name: broken
      file: `+bad+`
    - name: missing
      file: `+filepath.Join(dir, "nope.txt")+`
    - name: "bad name"
      terms: [x]
      match: regex
    - name: empty
    - name: terms
      terms: ["", "@handle"]
  patterns:
    - name: p1
      regex: '(a'
    - name: p2
      regex: '(\w+)\1'
    - name: p3
      regex: 'x*'
    - name: p4
      regex: '[0-9]{12}'
      validator: crc32
    - name: p5
      regex: '((a{100}){100}){100}'
  allow:
    values: [""]
    bogus: 1
`))
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "detect.allow.bogus") {
		t.Fatalf("unknown key not named: %v", err)
	}
	_, err = Parse("t.yaml", []byte(`detect:
  dictionaries:
    - name: broken
      file: `+bad+`
    - name: missing
      file: `+filepath.Join(dir, "nope.txt")+`
    - name: "bad name"
      terms: [x]
      match: regex
    - name: empty
    - name: terms
      terms: ["", "@handle"]
  patterns:
    - name: p1
      regex: '(a'
    - name: p2
      regex: '(\w+)\1'
    - name: p3
      regex: 'x*'
    - name: p4
      regex: '[0-9]{12}'
      validator: crc32
    - name: p5
      regex: '((a{100}){100}){100}'
  allow:
    values: [""]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"line 4: detect.dictionaries[0].file: " + bad + " line 2: not UTF-8",
		bad + " line 3: \"2025計画\": starts with a digit",
		bad + " line 4:",
		"detect.dictionaries[1].file: cannot read",
		"line 7: detect.dictionaries[2]: name \"bad name\"", "match must be substring or word",
		"detect.dictionaries[3]: needs terms, a file, exclude or exclude_near",
		"detect.dictionaries[4].terms[0]", "detect.dictionaries[4].terms[1]",
		"line 14: detect.patterns[0]: regex: error parsing regexp: missing closing )",
		"detect.patterns[1]: regex", "detect.patterns[2]: regex matches empty text",
		"detect.patterns[3]: validator", "detect.patterns[4]: regex",
		"detect.allow.values[0]: must not be empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
