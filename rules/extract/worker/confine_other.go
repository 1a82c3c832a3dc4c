//go:build !unix

package worker

import "errors"

// Without resource limits the parser cannot be bounded: the worker refuses
// the request and the part is unscannable.
func confine(Budget) error { return errNoLimits }

var errNoLimits = errors.New("resource limits not supported on this system")

type prepared struct{}

func prepare() (prepared, error) { return prepared{}, errNoLimits }

func confineTo(prepared, Budget) error { return errNoLimits }
