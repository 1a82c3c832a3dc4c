//go:build !linux

package disposition

import "log/slog"

// lowerPriority does nothing where threads have no priority of their own
// (a spare P would only let the worker compete with sessions as an equal).
func lowerPriority(*slog.Logger) {}

// spareProc does nothing where lowerPriority does nothing.
func spareProc() func() { return func() {} }
