//go:build !linux

package spool

import (
	"errors"
	"os"
)

const groupSyncSupported = false

var syncFS = func(*os.File) error { return errors.New("syncfs: not supported") }
