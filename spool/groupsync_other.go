//go:build !linux

package spool

import (
	"errors"
	"os"
)

// groupSyncSupported: syncfs(2) is Linux's; elsewhere each file is fsynced.
func groupSyncSupported() bool { return false }

var syncFS = func(*os.File) error { return errors.New("syncfs: not supported") }
