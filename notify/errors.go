package notify

import "errors"

// ErrInvalid reports a notice or option that cannot be built.
var ErrInvalid = errors.New("notify: invalid notice")
