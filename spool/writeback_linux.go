package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeback pushes [off, off+n) of f to the disk and waits for it: the
// pages are clean afterwards, so a later fsync of any file on the same
// file system (the next acceptance's body and commit) finds no large
// dirty backlog of ours to order behind. Errors are left to the final
// fsync, which reports them.
func writeback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n,
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
}
