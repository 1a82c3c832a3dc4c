package rewrite

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/rewrite/golden")

const fixtureDir = "../testdata/rewrite"

// isExternal treats example.com and its subdomains as internal.
func isExternal(addr string) bool {
	_, dom, _ := strings.Cut(strings.ToLower(addr), "@")
	return dom != "example.com" && !strings.HasSuffix(dom, ".example.com")
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with testdata/rewrite/golden/name, or writes it
// with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(fixtureDir, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update after checking):\n--- got ---\n%s", name, got)
	}
}

// rawFields parses a header with go-message textproto (independent of the
// package's own splitter) and returns each field's raw bytes in order,
// plus the body.
func rawFields(t testing.TB, msg []byte) (names []string, raws [][]byte, body []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatalf("textproto.ReadHeader: %v", err)
	}
	fs := h.Fields()
	for fs.Next() {
		raw, err := fs.Raw()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fs.Key())
		raws = append(raws, raw)
	}
	rest := new(bytes.Buffer)
	if _, err := br.WriteTo(rest); err != nil {
		t.Fatal(err)
	}
	return names, raws, rest.Bytes()
}

// fieldsExcept returns the raw fields whose (canonical) names are not in skip.
func fieldsExcept(names []string, raws [][]byte, skip ...string) [][]byte {
	var out [][]byte
outer:
	for i, n := range names {
		for _, s := range skip {
			if strings.EqualFold(n, s) {
				continue outer
			}
		}
		out = append(out, raws[i])
	}
	return out
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
