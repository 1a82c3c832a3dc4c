package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// groupSyncSupported: syncfs(2) reports writeback errors since Linux 5.8.
const groupSyncSupported = true

// syncFS makes every file of f's file system durable (data, metadata,
// names) with one cache flush. f must stay open between calls: syncfs
// reports a writeback error once to each descriptor open when it happened,
// so a descriptor opened after a failed writeback would not see it.
var syncFS = func(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
