//go:build !unix

package extract

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// Without process groups and resource limits the parser cannot be bounded:
// workers refuse to start and PDFs are reported unscannable.

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func cpuKilled(*os.ProcessState) bool { return false }

func workerProcAttr() *syscall.SysProcAttr { return nil }

func executable(string) error { return errors.New("no extraction worker on this system") }

// growPipe leaves the pipe as it is: only Linux resizes pipes.
func growPipe(io.Writer) {}
