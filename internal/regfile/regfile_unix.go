//go:build unix

// Package regfile opens regular files without os.OpenFile's attempt to
// register them with the network poller: on Linux that attempt costs four
// fcntl calls and an epoll_ctl that fails with EPERM for every regular
// file, half the cost of an open and close (BenchmarkOpen). The spool
// opens several files per message.
package regfile

import (
	"errors"
	"os"
	"syscall"
)

// OpenFile is os.OpenFile for a regular file (close-on-exec, blocking
// reads and writes as os.OpenFile gives a regular file).
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			return os.NewFile(uintptr(fd), name), nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
	}
}

// Open opens a regular file for reading.
func Open(name string) (*os.File, error) { return OpenFile(name, os.O_RDONLY, 0) }
