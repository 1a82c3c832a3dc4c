package smtp

import (
	"bufio"
	"bytes"
)

// dotWriter is net/textproto's DotWriter (Go 1.26) working on runs of bytes:
// textproto writes every byte with bufio.Writer.WriteByte. The output is the
// same: a leading dot is doubled, a LF not preceded by CR (as textproto's
// state machine sees it) is written as CRLF, and Close ends the data with
// ".\r\n" after a CRLF if the data does not end with one.
//
// Runs are written into the bufio.Writer no faster than WriteByte fills it
// (the buffer is flushed when it is full and a byte is still to be written),
// so the underlying writer sees the same writes, and the count returned with
// an error is the same too.
type dotWriter struct {
	w     *bufio.Writer
	state int
	// c is the client whose next command closes this writer first, as
	// textproto's next command closes its open DotWriter.
	c *Client
	// prev is the client's own writer while w is a pooled DATA buffer.
	prev *bufio.Writer
}

const (
	wstateBegin     = iota // initial state; must be zero
	wstateBeginLine        // beginning of line
	wstateCR               // wrote \r (possibly at end of line)
	wstateData             // writing data in middle of line
)

var dotcrnl = []byte{'.', '\r', '\n'}

func (d *dotWriter) Write(b []byte) (n int, err error) {
	for n < len(b) {
		if d.state == wstateBegin || d.state == wstateBeginLine {
			d.state = wstateData
			if b[n] == '.' {
				// Escape a leading dot. An error is kept by the
				// bufio.Writer and returned by the next write.
				d.w.WriteByte('.')
			}
		}
		line := b[n:]
		i := bytes.IndexByte(line, '\n')
		if i < 0 {
			m, err := d.put(line)
			n += m
			if err != nil {
				return n, err
			}
			d.state = stateAfter(d.state, line)
			return n, nil
		}
		if stateAfter(d.state, line[:i]) == wstateCR {
			// CRLF: written as it is.
			m, err := d.put(line[:i+1])
			n += m
			if err != nil {
				return n, err
			}
		} else {
			m, err := d.put(line[:i])
			n += m
			if err != nil {
				return n, err
			}
			d.w.WriteByte('\r')
			if err := d.w.WriteByte('\n'); err != nil {
				return n, err
			}
			n++
		}
		d.state = wstateBeginLine
	}
	return n, nil
}

// stateAfter is the state after writing p, which holds no LF, from state
// wstateData or wstateCR: a CR after data moves to wstateCR, any byte after
// a CR (another CR too) back to wstateData.
func stateAfter(state int, p []byte) int {
	t := 0 // trailing CRs
	for t < len(p) && p[len(p)-1-t] == '\r' {
		t++
	}
	if t < len(p) {
		state = wstateData // the byte before the trailing CRs
	}
	if t%2 == 1 {
		if state == wstateData {
			return wstateCR
		}
		return wstateData
	}
	return state
}

// put writes p into the bufio.Writer, flushing only when the buffer is full
// and bytes remain, like a WriteByte per byte. It returns how many bytes were
// buffered before an error.
func (d *dotWriter) put(p []byte) (n int, err error) {
	for len(p) > 0 {
		if d.w.Available() <= 0 {
			if err := d.w.Flush(); err != nil {
				return n, err
			}
		}
		k := d.w.Available()
		if k > len(p) {
			k = len(p)
		}
		m, err := d.w.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

func (d *dotWriter) Close() error {
	if d.c != nil && d.c.dot == d {
		d.c.dot = nil
	}
	bw := d.w
	switch d.state {
	default:
		bw.WriteByte('\r')
		fallthrough
	case wstateCR:
		bw.WriteByte('\n')
		fallthrough
	case wstateBeginLine:
		bw.Write(dotcrnl)
	}
	err := bw.Flush()
	if d.prev != nil && err == nil {
		// Everything is written: the client's own writer again. After an
		// error the pooled one stays, holding the error as upstream's
		// writer would.
		d.c.text.W, d.w, d.prev = d.prev, d.prev, nil
		bw.Reset(nil)
		dataWriters.Put(bw)
	}
	return err
}
