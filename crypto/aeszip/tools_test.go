package aeszip_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tool returns the path of an external archiver, skipping the test when it
// is missing unless CI is set (then a missing tool is a failure).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (CI requires it): %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// run executes a command with a deadline and returns its combined output.
func run(t testing.TB, dir string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// extractors lists the external readers and how to extract archive into
// dir with a password.
type extractor struct {
	name string
	args func(archive, dir, password string) []string
}

var extractors = []extractor{
	{"7zz", func(a, d, p string) []string { return []string{"x", "-y", "-p" + p, "-o" + d, a} }},
	{"7z", func(a, d, p string) []string { return []string{"x", "-y", "-p" + p, "-o" + d, a} }},
	{"bsdtar", func(a, d, p string) []string { return []string{"-x", "-f", a, "-C", d, "--passphrase", p} }},
}

// readTree returns every regular file under dir by relative path.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
