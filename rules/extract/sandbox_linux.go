package extract

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// workerProcAttr puts a worker in its own process group (killed as one) and
// has the kernel kill it if the gateway dies first.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// workerPipe is the capacity asked for a worker's stdin: the kernel's
// default ceiling for unprivileged processes (fs.pipe-max-size).
const workerPipe = 1 << 20

// growPipe raises the capacity of a worker's stdin pipe from 64 KiB to
// workerPipe where the kernel allows it: an 8 MB PDF then crosses in a
// few writes, each waking the worker once, instead of one per 64 KiB. On
// a virtual machine each of those wake-ups and switches costs tens of
// microseconds on both sides. A refusal leaves the pipe as it was.
func growPipe(w io.Writer) {
	f, ok := w.(*os.File)
	if !ok || !growPipes {
		return
	}
	// SyscallConn, not Fd: Fd would put the pipe in blocking mode.
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, workerPipe) })
	}
}
