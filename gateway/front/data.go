package front

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// lineLimitSlack is how much longer go-smtp's own line limit is than
// smtp.max_line_length: more than its 4 KiB read-ahead, so that within DATA
// our limit, which answers, is always met first.
const lineLimitSlack = 64 << 10

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
	pooled    *[]byte // buf's pooled backing, until release
	err       error   // sticky: errBareLF, errHeaderTooBig, errLoop, a lineTooLong reply
	longLine  bool    // err is the line length limit
}

func newDataChecker(w io.Writer, normalize bool, maxLine int) *dataChecker {
	b := bufpool.Get()
	return &dataChecker{w: w, normalize: normalize, maxLine: maxLine, inHeader: true, atLineBeg: true, pooled: b, buf: (*b)[:0]}
}

// release gives the output buffer back once DATA is copied; a later Write
// allocates its own.
func (d *dataChecker) release() {
	if d.pooled != nil {
		bufpool.Put(d.pooled)
		d.pooled, d.buf = nil, nil
	}
}

// LineTooLong reports whether the data was refused for a line over the
// limit (the rest of the message must then be drained, see drainData).
func (d *dataChecker) LineTooLong() bool { return d.longLine }

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
		if c == '\n' {
			d.lineBytes = 0
		} else if d.lineBytes++; d.maxLine > 0 && d.lineBytes+1 > d.maxLine {
			// CRLF included (the LF still to come), as RFC 5321
			// §4.5.3.1.6 counts.
			d.err, d.longLine = lineTooLong(d.maxLine), true
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

// drainQuiet is how long the client may stay silent while the rest of a
// refused message is drained from the connection before the reply is sent
// anyway: a client that has sent everything is waiting for that reply.
const drainQuiet = 5 * time.Second

// drainData reads the rest of a refused message, so that the client, which
// sends the whole message before reading the reply (RFC 5321 §4.1.1.4),
// gets the reply instead of a reset connection. go-smtp drains through its
// own line limit; a line longer than that one (set above ours, so we refuse
// first) stops its reader for good, and the rest is then read from the
// connection itself up to the end-of-data marker. At most limit bytes are
// read that way; past that, or on a read error, the connection is closed.
func (r *idleReader) drainData(limit int64) {
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, smtp.ErrTooLongLine) || r.conn == nil {
		return // the end, or an error go-smtp's own drain and reply handle
	}
	var tail [4]byte // the last bytes seen, for a marker split across reads
	n := 0
	buf := make([]byte, 32<<10)
	for read := int64(0); read < limit; {
		r.conn.SetReadDeadline(time.Now().Add(min(r.timeout, drainQuiet)))
		k, err := r.conn.Read(buf)
		read += int64(k)
		if k > 0 {
			window := append(tail[:n:n], buf[:k]...)
			if bytes.Contains(window, []byte("\r\n.\r\n")) {
				return
			}
			n = copy(tail[:], window[max(0, len(window)-4):])
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // the client waits for the reply: the marker was in what go-smtp read
			}
			r.conn.Close()
			return
		}
	}
	r.conn.Close()
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
