// Package browsertest finds what the browser tests need: node, Debian's
// Chromium (never a browser a test tool downloads), the e2e scripts and
// their node_modules, and where screenshots go. A missing piece skips the
// test, unless CI is set: then it fails, so CI never passes by skipping.
package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Chromium is Debian's browser.
const Chromium = "/usr/bin/chromium"

// Root is the repository root: the nearest directory above the working
// directory that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if exists(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Script returns the node binary and the absolute path of e2e/name.
func Script(t testing.TB, name string) (node, script string) {
	t.Helper()
	root := Root(t)
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node"
	case !exists(Chromium):
		missing = Chromium
	case !exists(filepath.Join(root, "e2e", "node_modules", "playwright-core")):
		missing = "e2e/node_modules (run npm ci in e2e/)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test needs %s (CI is set)", missing)
		}
		t.Skipf("browser test needs %s", missing)
	}
	return node, filepath.Join(root, "e2e", name)
}

// Artifacts is the directory for screenshots: $ARTIFACT_DIR or
// test-artifacts at the repository root, plus sub.
func Artifacts(t testing.TB, sub string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join(Root(t), "test-artifacts")
	}
	return filepath.Join(dir, sub)
}

// Exists reports whether path exists (screenshots checked after a run).
func Exists(path string) bool { return exists(path) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
