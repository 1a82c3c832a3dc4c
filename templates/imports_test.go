package templates

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestViewOnly: the templates render views and know no store or analysis
// types; hold/summary converts a hold record and its report.
func TestViewOnly(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if strings.HasPrefix(p, "github.com/sendguard/sendguard/hold") || strings.HasPrefix(p, "github.com/sendguard/sendguard/rules") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
