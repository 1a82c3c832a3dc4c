//go:build !unix

package regfile

import "os"

// OpenFile is os.OpenFile.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// Open is os.Open.
func Open(name string) (*os.File, error) { return os.Open(name) }
