package extract

import "syscall"

// workerProcAttr puts a worker in its own process group (killed as one) and
// has the kernel kill it if the gateway dies first.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
