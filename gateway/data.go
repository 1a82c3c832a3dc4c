package gateway

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// Limits on the header section. A header this large is an attack or a
// broken client, never mail worth delivering.
const (
	maxHeaderBytes    = 1 << 20
	maxReceivedFields = 50
)

// dataChecker copies DATA to the spool while enforcing line endings and
// header limits. It sees every byte once; it never buffers a line.
type dataChecker struct {
	w         io.Writer
	normalize bool // rewrite bare LF/CR to CRLF instead of refusing

	prevCR    bool
	inHeader  bool
	atLineBeg bool
	hdrBytes  int64
	lineStart [10]byte // first bytes of the current header line
	lineLen   int
	received  int
	buf       []byte
	err       error // sticky: errBareLF, errHeaderTooBig, errLoop
}

func newDataChecker(w io.Writer, normalize bool) *dataChecker {
	return &dataChecker{w: w, normalize: normalize, inHeader: true, atLineBeg: true, buf: make([]byte, 0, 32<<10)}
}

var receivedPrefix = []byte("received:")

func (d *dataChecker) Write(p []byte) (int, error) {
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

// idleReader extends the connection's read deadline before every read, so
// a slow but live client may send a large message while a stalled one is
// cut off after the idle timeout (go-smtp's own ReadTimeout is one deadline
// for the whole DATA phase).
type idleReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.conn != nil {
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	}
	n, err := r.r.Read(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return n, errTimeout
		}
	}
	return n, err
}
