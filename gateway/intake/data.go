package intake

import (
	"bytes"
	"fmt"
	"io"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// Limits on the header section. A header this large is an attack or a
// broken client, never mail worth delivering.
const (
	maxHeaderBytes    = 1 << 20
	maxReceivedFields = 50
)

// dataError is the data checker's refusal, typed for the outcome.
type dataError struct {
	kind  DataKind
	limit int // the line limit, for DataLineTooLong
}

func (e *dataError) Error() string {
	if e.kind == DataLineTooLong {
		return fmt.Sprintf("data refused: a line over %d bytes", e.limit)
	}
	return "data refused: " + string(e.kind)
}

// The checker's refusals but the line limit, which carries its value.
var (
	errBareLF       = &dataError{kind: DataBareLineEnding}
	errHeaderTooBig = &dataError{kind: DataHeaderTooBig}
	errLoop         = &dataError{kind: DataLoop}
)

// dataChecker copies DATA to the spool while enforcing line endings and
// header limits. It never buffers a line. The header section goes byte by
// byte; in the body, lines that need nothing are found with IndexByte and
// passed on as runs, and a chunk with nothing to normalize is written
// through as it came.
type dataChecker struct {
	w         io.Writer
	normalize bool // rewrite bare LF/CR to CRLF instead of refusing
	maxLine   int  // longest line, CRLF included (smtp.max_line_length)
	lineBytes int  // bytes of the current line so far

	prevCR    bool
	inHeader  bool
	hdrBytes  int64
	lineStart [10]byte // first bytes of the current header line
	lineLen   int
	received  int
	buf       []byte
	pooled    *[]byte // buf's pooled backing, until release
	err       error   // sticky: a *dataError
}

func newDataChecker(w io.Writer, normalize bool, maxLine int) *dataChecker {
	b := bufpool.Get()
	return &dataChecker{w: w, normalize: normalize, maxLine: maxLine, inHeader: true, pooled: b, buf: (*b)[:0]}
}

// release gives the output buffer back once DATA is copied; a later Write
// allocates its own.
func (d *dataChecker) release() {
	if d.pooled != nil {
		bufpool.Put(d.pooled)
		d.pooled, d.buf = nil, nil
	}
}

var receivedPrefix = []byte("received:")

// Write checks p and passes it on. On a refusal nothing of p is written.
func (d *dataChecker) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	// out is p[:from] with the inserted line-end bytes, once there is one.
	out, from, edited := d.buf[:0], 0, false
	for i := 0; i < len(p); {
		if !d.inHeader && !d.prevCR {
			if n := d.run(p[i:]); n > 0 {
				i += n
				continue
			}
		}
		ins, err := d.step(p[i])
		if err != nil {
			return 0, err
		}
		if ins != 0 {
			out = append(out, p[from:i]...)
			out = append(out, ins)
			from, edited = i, true
		}
		i++
	}
	data := p
	if edited {
		out = append(out, p[from:]...)
		d.buf, data = out[:0], out
	}
	if _, err := d.w.Write(data); err != nil {
		return 0, err
	}
	return len(p), nil
}

// run returns how many leading bytes of a body chunk pass unchanged
// without a decision (the previous byte was no CR): whole CRLF lines
// within the limit, else the bytes before the next CR or LF that keep
// the line within it. step decides the byte after them.
func (d *dataChecker) run(b []byte) int {
	lf := bytes.IndexByte(b, '\n')
	line := b
	if lf >= 0 {
		line = b[:lf]
	}
	cr := bytes.IndexByte(line, '\r')
	// After the CR the line holds lineBytes+lf bytes; the LF still counts.
	if lf > 0 && cr == lf-1 && (d.maxLine <= 0 || d.lineBytes+lf+1 <= d.maxLine) {
		d.lineBytes = 0
		return lf + 1
	}
	n := len(line)
	if cr >= 0 {
		n = cr
	}
	if d.maxLine > 0 {
		n = min(n, max(d.maxLine-1-d.lineBytes, 0))
	}
	d.lineBytes += n
	return n
}

// step applies the rules to one byte c. ins is a byte to write before c
// (0 for none): the LF of a bare CR or the CR of a bare LF when
// normalizing.
func (d *dataChecker) step(c byte) (ins byte, err error) {
	if d.prevCR && c != '\n' {
		// Bare CR.
		if !d.normalize {
			d.err = errBareLF
			return 0, d.err
		}
		ins = '\n'
		d.endLine()
	}
	if c == '\n' && !d.prevCR {
		if !d.normalize {
			d.err = errBareLF
			return 0, d.err
		}
		ins = '\r'
	}
	d.prevCR = c == '\r'
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
	return ins, d.err
}

// endLine is called at each LF while in the header section.
func (d *dataChecker) endLine() {
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
func (d *dataChecker) Close() error {
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
