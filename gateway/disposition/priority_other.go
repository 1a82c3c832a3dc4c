//go:build !linux

package disposition

import "log/slog"

// lowerPriority does nothing where threads have no priority of their own.
func lowerPriority(*slog.Logger) {}
