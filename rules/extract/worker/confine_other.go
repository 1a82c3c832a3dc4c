//go:build !unix

package worker

import "errors"

// Without resource limits the parser cannot be bounded: the worker refuses
// the request and the part is unscannable.
func confine(Budget) error { return errNoLimits }

var errNoLimits = errors.New("resource limits not supported on this system")

func prepare() error { return errNoLimits }

func confineTo(Budget) error { return errNoLimits }
