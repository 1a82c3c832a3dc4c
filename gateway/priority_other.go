//go:build !linux

package gateway

import "log/slog"

// lowerPriority does nothing where threads have no priority of their own.
func lowerPriority(*slog.Logger) {}
