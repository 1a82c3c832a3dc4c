package templates

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCatalogsComplete checks that both catalogs have the same keys and
// that every literal key a template asks for exists.
func TestCatalogsComplete(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	en, ja := c.Keys("en"), c.Keys("ja")
	if !slices.Equal(en, ja) {
		for _, k := range en {
			if !c.Has("ja", k) {
				t.Errorf("ja lacks %s", k)
			}
		}
		for _, k := range ja {
			if !c.Has("en", k) {
				t.Errorf("en lacks %s", k)
			}
		}
	}
	lit := regexp.MustCompile(`\.T "([^"]+)"`)
	err = fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".tmpl")) {
			return err
		}
		b, err := fs.ReadFile(FS, path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !c.Has("en", m[1]) {
				t.Errorf("%s asks for missing key %s", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNegotiate(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"ja":                      "ja",
		"ja-JP,ja;q=0.9,en;q=0.8": "ja",
		"en-US,en;q=0.9,ja;q=0.5": "en",
		"fr, ja;q=0.3":            "ja",
		"fr":                      "",
		"en;q=0.2, ja;q=0.8":      "ja",
		"ja;q=0, en;q=0.1":        "en",
		"ja;q=bogus, en;q=0.1":    "en",
	} {
		if got := Negotiate(in); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneLineAndFormat(t *testing.T) {
	if got := OneLine("a\r\nb\tc\x00d\u2028e"); got != "a  b c d e" {
		t.Errorf("OneLine = %q", got)
	}
	at := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	if got := FormatTime("ja", at, time.FixedZone("JST", 9*3600)); got != "2026年4月2日(木) 18:00 JST" {
		t.Errorf("ja time %q", got)
	}
	if got := FormatTime("en", at, nil); got != "Thu 2 Apr 2026 09:00 UTC" {
		t.Errorf("en time %q", got)
	}
	if FormatSize(2048) != "2.0 KB" || FormatSize(10) != "10 B" || FormatSize(3<<20) != "3.0 MB" {
		t.Error("sizes")
	}
}
