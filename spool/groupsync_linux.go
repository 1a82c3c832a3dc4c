package spool

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// groupSyncSupported reports whether syncfs(2) can stand in for the
// fsyncs of files: only since Linux 5.8 does it report a writeback error
// (before, it returned 0 and the error was lost, where fsync reports it).
func groupSyncSupported() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
}

// kernelAtLeast parses the major.minor of a kernel release ("6.18.44-fc").
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	end := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(parts[1])
	}
	mnr, err2 := strconv.Atoi(parts[1][:end])
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || maj == major && mnr >= minor
}

// syncFS makes every file of f's file system durable (data, metadata,
// names) with one cache flush. f must stay open between calls: syncfs
// reports a writeback error once to each descriptor open when it happened,
// so a descriptor opened after a failed writeback would not see it.
var syncFS = func(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
