package detect

import (
	"bytes"
	"errors"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	// keepContext is how much already-scanned text a Document keeps so that
	// context words, e-mail local parts and a prose table's header before a
	// chunk boundary count: at least farBytes and maxProseHeaderBack.
	keepContext = maxProseHeaderBack
	// maxLine bounds how much a Document buffers waiting for a line break.
	maxLine = 1 << 20
)

// ErrClosed is returned by Write after Result.
var ErrClosed = errors.New("detect: document already finished")

// Document scans one document written in chunks of any size (an io.Writer):
// it scans whole lines and carries the rest, so numbers, keywords and table
// rows split across chunks are found as if scanned at once. The last
// complete line is held back until the next one arrives, because a label
// on the line after a number counts. Not safe for concurrent use.
type Document struct {
	s    *scanner
	res  *Result // once done
	buf  []byte
	pbuf *[]byte // buf as taken from docBufs
	pos  int     // scanned up to here
	held int     // end of the last complete line, not scanned yet (≥ pos)
	done bool
	// deadline is the custom patterns' budget for the whole document.
	deadline time.Time
}

// NewDocument starts a chunked scan; see Scan for tabular.
func (e *Engine) NewDocument(tabular bool) *Document {
	bp := docBufs.Get().(*[]byte)
	return &Document{s: e.newScanner(tabular), buf: (*bp)[:0], pbuf: bp}
}

// docBufs are the Documents' line buffers, reused: most documents are a
// few KB, and a mail makes several.
var docBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// Write buffers p and scans every complete line.
func (d *Document) Write(p []byte) (int, error) {
	if d.done {
		return 0, ErrClosed
	}
	d.buf = append(d.buf, p...)
	// Only p can hold a new line break: searching the whole carry again
	// would make many small writes quadratic.
	cut := -1
	if nl := bytes.LastIndexByte(p, '\n'); nl >= 0 {
		base := len(d.buf) - len(p)
		cut = d.held
		if nl2 := bytes.LastIndexByte(p[:nl], '\n'); nl2 >= 0 {
			cut = base + nl2 + 1
		}
		d.held = base + nl + 1
	}
	if cut <= d.pos && len(d.buf)-d.pos > maxLine {
		cut = runeStart(d.buf, len(d.buf)-keepContext)
		d.held = max(d.held, cut)
	}
	if cut > d.pos {
		d.scan(cut)
		d.compact()
	}
	return len(p), nil
}

// Result scans what is left and returns the result. Later writes fail.
func (d *Document) Result() *Result {
	if !d.done {
		d.scan(len(d.buf))
		d.s.finish(len(d.buf))
		d.done = true
		// the result holds copies of what it reports, never the text
		d.res = d.s.res
		d.s.release()
		d.s = nil
		if cap(d.buf) <= 1<<20 {
			*d.pbuf = d.buf[:0]
			docBufs.Put(d.pbuf)
		}
		d.buf, d.pbuf = nil, nil
	}
	return d.res
}

func (d *Document) scan(end int) {
	d.s.b = d.buf
	d.s.run(d.pos, end)
	if d.deadline.IsZero() {
		d.deadline = time.Now().Add(patternBudget)
	}
	d.s.e.scanPatterns(d.buf[d.pos:end], d.s.res, d.deadline, d.s.base+d.pos)
	d.pos = end
}

// compact drops scanned bytes except keepContext of look-behind, and shifts
// the scanner's offsets with them.
func (d *Document) compact() {
	drop := runeStart(d.buf, d.pos-keepContext)
	// Keep a table row that continues (a quoted line break) whole, up to
	// maxLine, so that its header and blank checks see all of it.
	if t := &d.s.tab; d.s.tabular && t.rowStart < drop && len(d.buf)-t.rowStart <= maxLine {
		drop = t.rowStart
	}
	if drop <= 0 {
		return
	}
	n := copy(d.buf, d.buf[drop:])
	d.buf = d.buf[:n]
	d.pos -= drop
	d.held -= drop
	d.s.base += drop
	t := &d.s.tab
	t.cellStart = max(0, t.cellStart-drop)
	t.rowStart = max(0, t.rowStart-drop)
	d.s.lo = 0
}

// runeStart moves i back to the start of a UTF-8 sequence; it returns 0 for
// i <= 0.
func runeStart(b []byte, i int) int {
	if i <= 0 {
		return 0
	}
	for k := 0; k < utf8.UTFMax && i > 0 && !utf8.RuneStart(b[i]); k++ {
		i--
	}
	return i
}
