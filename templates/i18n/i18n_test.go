package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// verbs finds the fmt verbs of a catalog text.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// Both languages have every key, and a key's texts take the same
// arguments (a translation that drops %s would print %!(EXTRA ...)).
func TestCatalogsAgree(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ja, en := c.Keys("ja"), c.Keys("en")
	if !slices.Equal(ja, en) {
		t.Fatalf("catalogs differ in keys: %d ja, %d en", len(ja), len(en))
	}
	for _, k := range ja {
		vj, ve := verbs.FindAllString(c.T("ja", k), -1), verbs.FindAllString(c.T("en", k), -1)
		if strings.Contains(strings.Join(vj, ""), "[") || strings.Contains(strings.Join(ve, ""), "[") {
			continue // indexed arguments may be reordered or skipped
		}
		slices.Sort(vj)
		slices.Sort(ve)
		if !slices.Equal(vj, ve) {
			t.Errorf("%s: ja takes %v, en takes %v", k, vj, ve)
		}
	}
}

func TestLanguageRule(t *testing.T) {
	for _, tc := range []struct {
		lang, def string
		want      []string
	}{
		{"", "", []string{"ja", "en"}},
		{"", "en", []string{"en", "ja"}},
		{"", "fr", []string{"ja", "en"}},
		{"en", "ja", []string{"en"}},
		{"ja", "en", []string{"ja"}},
	} {
		if got := For(tc.lang, tc.def); !slices.Equal(got, tc.want) {
			t.Errorf("For(%q, %q) = %v, want %v", tc.lang, tc.def, got, tc.want)
		}
	}
	if got := Pick("", "en-US,ja;q=0.5", "ja"); got != "en" {
		t.Errorf("Pick by Accept-Language = %q", got)
	}
	if got := Pick("", "", "en"); got != "en" {
		t.Errorf("Pick by default = %q", got)
	}
}

func TestFormatTime(t *testing.T) {
	c := MustLoad()
	at := time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC)
	jst := time.FixedZone("JST", 9*3600)
	for lang, want := range map[string]string{"ja": "2026年4月2日(木) 00:00 JST", "en": "Thu 2 Apr 2026 00:00 JST"} {
		if got := c.FormatTime(lang, at, jst); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := c.FormatTime("en", at, nil); got != at.Format("Mon 2 Jan 2006 15:04 MST") {
		t.Errorf("nil zone: %q", got)
	}
	if c.FormatTime("ja", time.Time{}, jst) != "" {
		t.Error("zero time written")
	}
}

// TestNoJapaneseOutsideCatalog walks the Go sources of every package that
// writes text people read (notices, notes, DSNs, pages) and fails on a
// Japanese string literal: such text belongs in ja.json, with its English
// twin in en.json, so no mail or page can be half translated.
func TestNoJapaneseOutsideCatalog(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, dir := range []string{"notify", "link", "rewrite", "gateway", "templates", "web"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && (lit.Kind == token.STRING || lit.Kind == token.CHAR) {
					if s, err := strconv.Unquote(lit.Value); err == nil && japanese(s) {
						t.Errorf("%s: Japanese literal %s outside the catalog (templates/i18n)", fset.Position(lit.Pos()), lit.Value)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", dir, err)
		}
	}
}

// japanese reports a Japanese word: kana or kanji. Full-width digits and
// brackets alone are parsing data (code input, masking), not text.
func japanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}
