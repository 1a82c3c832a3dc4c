//go:build unix && !linux

package extract

import "syscall"

// workerProcAttr puts a worker in its own process group (killed as one).
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
