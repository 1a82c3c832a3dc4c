package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sendguard/sendguard/rules/detect"
)

// Detect configures what the detectors look for beyond the built-in
// identifiers: the company's dictionaries, custom patterns and values that
// are never findings. It is loaded with the rest of the configuration and
// compiled with the policy, so both change together.
type Detect struct {
	// BuiltinDictionary keeps the built-in Japanese and English
	// confidentiality dictionary (社外秘, 機密, Confidential, ...; default
	// true). A dictionary named "confidential" extends it, or replaces it
	// when this is false.
	BuiltinDictionary bool `yaml:"builtin_dictionary"`
	// Dictionaries are named term lists found by the keyword detector.
	Dictionaries []Dictionary `yaml:"dictionaries"`
	// Patterns are custom detectors (RE2 regular expressions), reported
	// as "pattern:NAME".
	Patterns []Pattern `yaml:"patterns"`
	Allow    Allow     `yaml:"allow"`
}

// Dictionary is one term list. Terms come from Terms and from File (UTF-8,
// one term a line, blank lines and lines starting with '#' skipped).
type Dictionary struct {
	Name string `yaml:"name"`
	// Level is reported with findings and asked by policies as
	// finding("keyword:LEVEL"); default: the name.
	Level string `yaml:"level"`
	// Match is "substring" (default) or "word".
	Match   string   `yaml:"match"`
	Terms   []string `yaml:"terms"`
	File    string   `yaml:"file"`
	Exclude []string `yaml:"exclude"`
	// ExcludeNear lists phrases that, within 60 characters of a term in
	// the same paragraph, make it part of a disclaimer, not a label.
	ExcludeNear []string `yaml:"exclude_near"`

	// loaded is Terms followed by the file's terms, set by Parse.
	loaded []string
}

// Pattern is a custom detector.
type Pattern struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
	// Validator is none, luhn, mynumber, corporate_number or mod11.
	Validator string   `yaml:"validator"`
	Context   []string `yaml:"context"`
	// Window is how many characters around a match are searched for a
	// context word (default 50).
	Window int `yaml:"window"`
}

// Allow lists values that are never findings.
type Allow struct {
	// TestValues allows the published sample card numbers and the sample
	// My Number (default true).
	TestValues bool `yaml:"test_values"`
	// Values are the company's own published numbers (its 法人番号, its
	// representative phone), compared by their digits.
	Values []string `yaml:"values"`
}

// maxDictionaryFile bounds a dictionary file.
const maxDictionaryFile = 16 << 20

// DetectConfig returns the detector settings for rules/detect and
// rules/inspect.
func (d Detect) DetectConfig() detect.Config {
	c := detect.Config{NoBuiltinDictionary: !d.BuiltinDictionary}
	for _, x := range d.Dictionaries {
		terms := x.loaded
		if terms == nil {
			terms = x.Terms
		}
		c.Dictionaries = append(c.Dictionaries, detect.Dictionary{Name: x.Name, Level: x.Level, Mode: x.Match,
			Terms: terms, Exclude: x.Exclude, ExcludeNear: x.ExcludeNear})
	}
	for _, p := range d.Patterns {
		c.Patterns = append(c.Patterns, detect.Pattern{Name: p.Name, Regex: p.Regex, Validator: p.Validator,
			Context: p.Context, Window: p.Window})
	}
	if d.Allow.TestValues {
		c.Allow = append(c.Allow, detect.TestValues()...)
	}
	c.Allow = append(c.Allow, d.Allow.Values...)
	return c
}

// checkDetect validates every dictionary, term, file line and pattern,
// naming the key (and the file line), and loads dictionary files.
func (v *validator) checkDetect(d *Detect) {
	names := map[string]int{}
	for i := range d.Dictionaries {
		x := &d.Dictionaries[i]
		key := fmt.Sprintf("detect.dictionaries[%d]", i)
		if j, dup := names[x.Name]; dup {
			v.add(key+".name", "%q is also dictionaries[%d]", x.Name, j)
		}
		names[x.Name] = i
		if x.Name == "" {
			v.add(key+".name", "must not be empty")
		} else if err := detect.CheckDictionary(detect.Dictionary{Name: x.Name, Level: x.Level, Mode: x.Match}); err != nil {
			v.add(key, "%v", err)
		}
		if len(x.Terms) == 0 && x.File == "" && len(x.Exclude) == 0 && len(x.ExcludeNear) == 0 {
			v.add(key, "needs terms, a file, exclude or exclude_near")
		}
		for j, t := range x.Terms {
			if err := detect.CheckTerm(t); err != nil {
				v.add(fmt.Sprintf("%s.terms[%d]", key, j), "%q: %v", t, err)
			}
		}
		for j, t := range x.Exclude {
			if err := detect.CheckTerm(t); err != nil {
				v.add(fmt.Sprintf("%s.exclude[%d]", key, j), "%q: %v", t, err)
			}
		}
		for j, t := range x.ExcludeNear {
			if strings.TrimSpace(t) == "" {
				v.add(fmt.Sprintf("%s.exclude_near[%d]", key, j), "must not be empty")
			}
		}
		x.loaded = append([]string(nil), x.Terms...)
		if x.File != "" {
			terms, errs := readDictionaryFile(x.File)
			for _, err := range errs {
				v.add(key+".file", "%v", err)
			}
			x.loaded = append(x.loaded, terms...)
		}
	}
	pnames := map[string]int{}
	for i, p := range d.Patterns {
		key := fmt.Sprintf("detect.patterns[%d]", i)
		if j, dup := pnames[p.Name]; dup {
			v.add(key+".name", "%q is also patterns[%d]", p.Name, j)
		}
		pnames[p.Name] = i
		if err := detect.CheckPattern(detect.Pattern{Name: p.Name, Regex: p.Regex, Validator: p.Validator,
			Context: p.Context, Window: p.Window}); err != nil {
			v.add(key, "%v", err)
		}
	}
	for i, a := range d.Allow.Values {
		if strings.TrimSpace(a) == "" {
			v.add(fmt.Sprintf("detect.allow.values[%d]", i), "must not be empty")
		}
	}
	// The whole set must also build (term limits across dictionaries).
	if len(v.problems) == 0 {
		if _, err := detect.New(d.DetectConfig()); err != nil {
			v.add("detect", "%v", err)
		}
	}
}

// readDictionaryFile reads one term a line, reporting every bad line by
// number.
func readDictionaryFile(path string) ([]string, []error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []error{fmt.Errorf("cannot read: %v", unwrapPath(err))}
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, maxDictionaryFile+1))
	var terms []string
	var errs []error
	read := 0
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		read += len(line)
		if read > maxDictionaryFile {
			return terms, append(errs, fmt.Errorf("%s: larger than %d bytes", path, maxDictionaryFile))
		}
		if len(line) > 0 {
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			t := strings.TrimSpace(string(line))
			switch {
			case !utf8.Valid(line):
				errs = append(errs, fmt.Errorf("%s line %d: not UTF-8 (save the file as UTF-8)", path, n))
			case t == "" || strings.HasPrefix(t, "#"):
			default:
				if cerr := detect.CheckTerm(t); cerr != nil {
					errs = append(errs, fmt.Errorf("%s line %d: %q: %v", path, n, t, cerr))
				} else {
					terms = append(terms, t)
				}
			}
			if len(errs) >= 20 {
				return terms, append(errs, errors.New("further errors omitted"))
			}
		}
		if err == io.EOF {
			return terms, errs
		}
		if err != nil {
			return terms, append(errs, fmt.Errorf("%s: %v", path, err))
		}
	}
}
