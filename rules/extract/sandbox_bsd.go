//go:build unix && !linux

package extract

import (
	"io"
	"syscall"
)

// workerProcAttr puts a worker in its own process group (killed as one).
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// growPipe leaves the pipe as it is: only Linux resizes pipes.
func growPipe(io.Writer) {}
