package rewrite

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// extractWithTools extracts the zip with every Debian archiver present and
// compares the files, under the result's names, with want (the original
// attachments, decoded by the test). A missing tool skips that check
// unless CI is set.
func extractWithTools(t *testing.T, data []byte, res EncryptResult, want [][]byte) {
	t.Helper()
	tools := []struct {
		name string
		args func(archive, dir string) []string
	}{
		{"7zz", func(a, d string) []string { return []string{"x", "-y", "-p" + testPassword, "-o" + d, a} }},
		{"7z", func(a, d string) []string { return []string{"x", "-y", "-p" + testPassword, "-o" + d, a} }},
		{"bsdtar", func(a, d string) []string { return []string{"-x", "-f", a, "-C", d, "--passphrase", testPassword} }},
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "a.zip")
	if err := os.WriteFile(archive, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		path, err := exec.LookPath(tool.name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed (CI requires it)", tool.name)
			}
			t.Logf("%s not installed: skipped", tool.name)
			continue
		}
		out := filepath.Join(dir, tool.name)
		if err := os.Mkdir(out, 0o700); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, path, tool.args(archive, out)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		msg, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s: %v\n%s", tool.name, err, msg)
			continue
		}
		if len(res.Files) != len(want) {
			t.Fatalf("%d files in the result, %d attachments", len(res.Files), len(want))
		}
		for i, f := range res.Files {
			b, err := os.ReadFile(filepath.Join(out, f.Name))
			if err != nil {
				t.Errorf("%s: %v", tool.name, err)
				continue
			}
			if !bytes.Equal(b, want[i]) {
				t.Errorf("%s: %s differs from the original", tool.name, f.Name)
			}
		}
	}
}
