//go:build unix

package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindProgram(t *testing.T) {
	prog := workerProgram(t)
	if p, err := FindProgram("self"); p != "" || err != nil {
		t.Errorf(`FindProgram("self") = %q, %v`, p, err)
	}
	if p, err := FindProgram(prog); p != prog || err != nil {
		t.Errorf("FindProgram(%s) = %q, %v", prog, p, err)
	}
	// relative to the working directory, not to the worker's "/"
	wd, _ := os.Getwd()
	if rel, err := filepath.Rel(wd, prog); err == nil {
		if p, err := FindProgram(rel); p != prog || err != nil {
			t.Errorf("FindProgram(%s) = %q, %v", rel, p, err)
		}
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	for _, bad := range []string{filepath.Join(dir, "missing"), plain, dir} {
		if p, err := FindProgram(bad); err == nil {
			t.Errorf("FindProgram(%s) = %q, accepted", bad, p)
		}
	}

	// The default: the program next to the running binary, else none.
	if got := programNextTo(filepath.Join(filepath.Dir(prog), "sendguard")); got != prog {
		t.Errorf("next to %s: %q", prog, got)
	}
	if got := programNextTo(filepath.Join(dir, "sendguard")); got != "" {
		t.Errorf("no program in %s, got %q", dir, got)
	}
	os.WriteFile(filepath.Join(dir, ProgramName), []byte("#!/bin/sh\n"), 0o644)
	if got := programNextTo(filepath.Join(dir, "sendguard")); got != "" {
		t.Errorf("non-executable %s chosen", got)
	}
}

// A worker program that cannot run, crashes or answers nonsense leaves the
// PDF unscannable with no text: never passed as clean.
func TestWorkerProgramFailuresAreUnscannable(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mail := pdfMail("a.pdf", pdfWithContent([]byte("BT /F1 12 Tf (hello) Tj ET"), ""))
	for _, tc := range []struct {
		name, program, want string
	}{
		{"missing", filepath.Join(dir, "missing"), "PDF text extraction failed: start extraction worker:"},
		{"not executable", script("noexec", "exit 0", 0o644), "PDF text extraction failed: start extraction worker:"},
		{"crash", script("crash", "kill -SEGV $$", 0o755), "PDF text extraction failed (the reader crashed)"},
		{"exit 1", script("fail", "exit 1", 0o755), "PDF text extraction failed (the reader crashed)"},
		{"silent success", script("silent", "cat >/dev/null; exit 0", 0o755), "PDF text extraction failed (the reader crashed)"},
		{"echo", script("echo", "cat", 0o755), "PDF text extraction failed (the reader crashed)"},
		{"forged answer over the cap", script("flood", "cat >/dev/null; printf 'SGX1T\\000\\000\\000\\000\\000\\000\\000\\000\\000'; head -c 100000 /dev/zero", 0o755),
			"PDF text extraction failed (the reader crashed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := NewSandbox(1)
			sb.SetProgram(tc.program)
			_, parts := walkBytes(t, mail, Limits{Sandbox: sb, MaxPartText: 1000})
			p := part(t, parts, "attachment:a.pdf", 0)
			if !strings.HasPrefix(p.Unscannable, tc.want) || len(p.Text) != 0 {
				t.Fatalf("unscannable = %q, text %q", p.Unscannable, p.Text)
			}
			if sb.Running() != 0 {
				t.Errorf("%d workers left", sb.Running())
			}
		})
	}
}

// The environment a worker program sees is the scrubbed one, whichever
// program it is: nothing of the parent's leaks.
func TestWorkerProgramEnvironment(t *testing.T) {
	t.Setenv("SENDGUARD_SECRET_FOR_TEST", "leak")
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	p := filepath.Join(dir, "envdump")
	// RLIMIT_FSIZE is the worker's own doing; a script can write.
	os.WriteFile(p, []byte("#!/bin/sh\nenv > "+out+"; pwd >> "+out+"; exit 1\n"), 0o755)
	sb := NewSandbox(1)
	sb.SetProgram(p)
	walkBytes(t, pdfMail("a.pdf", pdfWithContent([]byte("BT (x) Tj ET"), "")), Limits{Sandbox: sb})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, _, _ := strings.Cut(l, "=")
		got[k] = true
	}
	for _, k := range []string{"SENDGUARD_SECRET_FOR_TEST", "HOME", "PATH"} {
		if got[k] {
			t.Errorf("worker sees %s", k)
		}
	}
	for _, k := range []string{"SENDGUARD_EXTRACT_WORKER", "SENDGUARD_EXTRACT_BUDGET", "GOMAXPROCS"} {
		if !got[k] {
			t.Errorf("worker lacks %s:\n%s", k, b)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(string(b)), "\n/") {
		t.Errorf("working directory not /:\n%s", b)
	}
}
