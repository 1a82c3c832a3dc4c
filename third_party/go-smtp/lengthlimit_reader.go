package smtp

import (
	"bytes"
	"errors"
	"io"
)

var ErrTooLongLine = errors.New("smtp: too long a line in input stream")

// lineLimitReader reads from the underlying Reader but restricts
// line length of lines in input stream to a certain length.
//
// If line length exceeds the limit - Read returns ErrTooLongLine
type lineLimitReader struct {
	R         io.Reader
	LineLimit int

	curLineLength int
}

func (r *lineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}

	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}

	if r.LineLimit == 0 {
		return n, nil
	}

	// Upstream counts byte by byte: a byte adds one to the line's length, a
	// LF first resets it (so the LF counts in the line it starts), and the
	// count stops at the first byte over the limit. Here the runs between
	// LFs are counted with IndexByte, with the same result and state.
	p := b[:n]
	for {
		i := bytes.IndexByte(p, '\n')
		run := p
		if i >= 0 {
			run = p[:i]
		}
		if len(run) > 0 {
			if len(run) > r.LineLimit-r.curLineLength {
				// Where the byte-by-byte count stops.
				if r.curLineLength < r.LineLimit {
					r.curLineLength = r.LineLimit + 1
				} else {
					r.curLineLength++
				}
				return 0, ErrTooLongLine
			}
			r.curLineLength += len(run)
		}
		if i < 0 {
			return n, nil
		}
		r.curLineLength = 1
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
		p = p[i+1:]
	}
}
