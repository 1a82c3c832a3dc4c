package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The files behave as os.OpenFile's: exclusive creation, permissions,
// writes and reads, errors that errors.Is recognises, and no descriptor
// left to a child process.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "body")
	f, err := OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 || st.Size() != 5 {
		t.Fatalf("stat %v %v", st, err)
	}
	if _, err := OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second exclusive create: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := make([]byte, 3)
	if n, err := r.ReadAt(b, 2); n != 3 || err != nil || string(b) != "llo" {
		t.Fatalf("ReadAt %q %v", b[:n], err)
	}
	if all, err := io.ReadAll(r); err != nil || string(all) != "hello" {
		t.Fatalf("ReadAll %q %v", all, err)
	}
}

func BenchmarkOpen(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	os.WriteFile(p, []byte("x"), 0o600)
	b.Run("os.Open", func(b *testing.B) {
		for b.Loop() {
			f, _ := os.Open(p)
			f.Close()
		}
	})
	b.Run("regfile.Open", func(b *testing.B) {
		for b.Loop() {
			f, _ := Open(p)
			f.Close()
		}
	})
}
