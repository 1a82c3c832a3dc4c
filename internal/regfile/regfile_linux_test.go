package regfile

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCloseOnExec(t *testing.T) {
	f, err := OpenFile(filepath.Join(t.TempDir(), "f"), unix.O_WRONLY|unix.O_CREAT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("FD_CLOEXEC not set: %#x %v", flags, err)
	}
}
