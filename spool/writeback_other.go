//go:build !linux

package spool

import "os"

// writeback is a no-op where sync_file_range does not exist; the final
// fsync alone makes the file durable.
func writeback(f *os.File, off, n int64) {}
