package intake

import (
	"bytes"
	"io"
)

// refChecker is the data checker as it was before it worked on runs: one
// byte at a time. The equivalence test and fuzz target hold the current
// checker to its output and errors.
type refChecker struct {
	w         io.Writer
	normalize bool // rewrite bare LF/CR to CRLF instead of refusing
	maxLine   int  // longest line, CRLF included (smtp.max_line_length)
	lineBytes int  // bytes of the current line so far

	prevCR    bool
	inHeader  bool
	atLineBeg bool
	hdrBytes  int64
	lineStart [10]byte // first bytes of the current header line
	lineLen   int
	received  int
	buf       []byte
	err       error // sticky: a *dataError
}

func newRefChecker(w io.Writer, normalize bool, maxLine int) *refChecker {
	return &refChecker{w: w, normalize: normalize, maxLine: maxLine, inHeader: true, atLineBeg: true}
}

func (d *refChecker) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	out := d.buf[:0]
	for _, c := range p {
		if d.prevCR && c != '\n' {
			// Bare CR.
			if !d.normalize {
				d.err = errBareLF
				return 0, d.err
			}
			out = append(out, '\n')
			d.endLine()
		}
		if c == '\n' && !d.prevCR {
			if !d.normalize {
				d.err = errBareLF
				return 0, d.err
			}
			out = append(out, '\r')
		}
		d.prevCR = c == '\r'
		out = append(out, c)
		if c == '\n' {
			d.lineBytes = 0
		} else if d.lineBytes++; d.maxLine > 0 && d.lineBytes+1 > d.maxLine {
			// CRLF included (the LF still to come), as RFC 5321
			// §4.5.3.1.6 counts.
			d.err = &dataError{kind: DataLineTooLong, limit: d.maxLine}
			return 0, d.err
		}
		if d.inHeader {
			d.hdrBytes++
			if d.hdrBytes > maxHeaderBytes {
				d.err = errHeaderTooBig
				return 0, d.err
			}
			if c == '\n' {
				d.endLine()
			} else if c != '\r' {
				if d.lineLen < len(d.lineStart) {
					d.lineStart[d.lineLen] = c
				}
				d.lineLen++
			}
		}
		if d.err != nil {
			return 0, d.err
		}
	}
	d.buf = out[:0]
	if _, err := d.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// endLine is called at each LF while in the header section.
func (d *refChecker) endLine() {
	if !d.inHeader {
		return
	}
	if d.lineLen == 0 {
		d.inHeader = false // blank line: the body starts
		return
	}
	n := min(d.lineLen, len(d.lineStart))
	if n >= len(receivedPrefix) && bytes.EqualFold(d.lineStart[:len(receivedPrefix)], receivedPrefix) {
		d.received++
		if d.received > maxReceivedFields {
			d.err = errLoop
		}
	}
	d.lineLen = 0
}

// Close checks the end of the data: a trailing bare CR is refused too.
func (d *refChecker) Close() error {
	if d.err != nil {
		return d.err
	}
	if d.prevCR {
		if !d.normalize {
			return errBareLF
		}
		_, err := d.w.Write([]byte{'\n'})
		return err
	}
	return nil
}
