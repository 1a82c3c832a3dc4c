package rewrite

import (
	"encoding/base64"
	"fmt"
	"io"
	"sync"

	"github.com/sendguard/sendguard/internal/b64"
	"github.com/sendguard/sendguard/internal/bufpool"
)

// outBuf buffers the rewritten message on its way to dst. Unlike a
// bufio.Writer it lets the base64 encoder write its lines straight into
// the free space, and the kept parts are read straight into it (ReadFrom),
// so no byte is copied on the rewrite's side. It flushes in chunks larger
// than bufpool.WriterSize: a destination that buffers with bufpool's
// writers (the spool's body files) passes such a chunk straight to its
// file when its own buffer is empty (bufio.Writer does), instead of
// copying every byte once more.
type outBuf struct {
	dst io.Writer
	buf []byte // the buffered bytes; cap is the buffer's size
	err error  // the first write error; every later call returns it
}

// outSize is an outBuf's size: over bufpool.WriterSize (see outBuf).
const outSize = 2 * bufpool.WriterSize

var outBufs = sync.Pool{New: func() any { return &outBuf{buf: make([]byte, 0, outSize)} }}

// getOutBuf returns a pooled outBuf writing to dst; give it back with put.
func getOutBuf(dst io.Writer) *outBuf {
	o := outBufs.Get().(*outBuf)
	o.dst, o.buf, o.err = dst, o.buf[:0], nil
	return o
}

// put returns o to the pool; unflushed bytes are dropped.
func (o *outBuf) put() {
	o.dst, o.err = nil, nil
	outBufs.Put(o)
}

// Flush writes the buffered bytes to dst.
func (o *outBuf) Flush() error {
	if o.err == nil && len(o.buf) > 0 {
		if _, err := o.dst.Write(o.buf); err != nil {
			o.err = err
		}
		o.buf = o.buf[:0]
	}
	return o.err
}

// free returns the free space, at least n bytes of it (n <= outSize),
// flushing first if needed. On a write error it returns nil.
func (o *outBuf) free(n int) []byte {
	if cap(o.buf)-len(o.buf) < n {
		if o.Flush() != nil {
			return nil
		}
	}
	return o.buf[len(o.buf):cap(o.buf)]
}

func (o *outBuf) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && o.err == nil {
		if len(o.buf) == 0 && len(p) >= cap(o.buf) {
			if _, err := o.dst.Write(p); err != nil {
				o.err = err
			}
			break
		}
		k := copy(o.buf[len(o.buf):cap(o.buf)], p)
		o.buf = o.buf[:len(o.buf)+k]
		p = p[k:]
		if len(p) > 0 {
			o.Flush()
		}
	}
	if o.err != nil {
		return 0, o.err
	}
	return n, nil
}

func (o *outBuf) WriteString(s string) (int, error) {
	n := len(s)
	for len(s) > 0 && o.err == nil {
		k := copy(o.buf[len(o.buf):cap(o.buf)], s)
		o.buf = o.buf[:len(o.buf)+k]
		s = s[k:]
		if len(s) > 0 {
			o.Flush()
		}
	}
	if o.err != nil {
		return 0, o.err
	}
	return n, nil
}

// ReadFrom reads r to its end into the free space (io.Copy uses it).
func (o *outBuf) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		b := o.free(1)
		if b == nil {
			return total, o.err
		}
		n, err := r.Read(b)
		o.buf = o.buf[:len(o.buf)+n]
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// b64Lines is an io.Writer that encodes what it is given in base64 lines
// of 76 characters (RFC 2045 §6.8) into an outBuf, each line after the
// first preceded by eol; Close encodes the last, short group. Whole
// groups of 57 bytes are encoded from the caller's slice into the
// outBuf's free space: no copy on either side.
type b64Lines struct {
	o       *outBuf
	eol     string
	started bool // a line was written: the next one needs eol first
	rem     [57]byte
	nrem    int
}

func (e *b64Lines) Write(p []byte) (int, error) {
	n := len(p)
	if e.nrem > 0 {
		k := copy(e.rem[e.nrem:], p)
		e.nrem += k
		p = p[k:]
		if e.nrem < len(e.rem) {
			return n, e.o.err
		}
		e.encode(e.rem[:])
		e.nrem = 0
	}
	whole := len(p) / 57 * 57
	e.encode(p[:whole])
	e.nrem = copy(e.rem[:], p[whole:])
	if e.o.err != nil {
		return 0, e.o.err
	}
	return n, nil
}

// WriteString spares io.WriteString a copy of the note.
func (e *b64Lines) WriteString(s string) (int, error) {
	n := len(s)
	var chunk [57 * 16]byte
	for len(s) > 0 && e.o.err == nil {
		k := copy(chunk[:], s)
		e.Write(chunk[:k])
		s = s[k:]
	}
	if e.o.err != nil {
		return 0, e.o.err
	}
	return n, nil
}

// Close encodes the bytes of the last, short group.
func (e *b64Lines) Close() error {
	if e.nrem > 0 {
		e.encode(e.rem[:e.nrem])
		e.nrem = 0
	}
	return e.o.err
}

// encode writes p (whole groups, or one short last group) as lines.
func (e *b64Lines) encode(p []byte) {
	line := 76 + len(e.eol)
	for len(p) > 0 {
		b := e.o.free(line)
		if b == nil {
			return
		}
		groups := min(len(b)/line, (len(p)+56)/57)
		off := 0
		for range groups {
			if e.started {
				off += copy(b[off:], e.eol)
			}
			e.started = true
			if len(p) >= 57 {
				encodeLine(b[off:off+76], p[:57])
				off += 76
				p = p[57:]
				continue
			}
			base64.StdEncoding.Encode(b[off:], p)
			off += base64.StdEncoding.EncodedLen(len(p))
			p = nil
		}
		e.o.buf = e.o.buf[:len(e.o.buf)+off]
	}
}

// writeBase64 encodes r in lines of 76 characters (RFC 2045 §6.8), with no
// line ending after the last line.
func writeBase64(w io.Writer, r io.Reader, eol string) error {
	o := getOutBuf(w)
	defer o.put()
	enc := &b64Lines{o: o, eol: eol}
	if _, err := bufpool.Copy(enc, r); err != nil {
		return encodeErr(err)
	}
	if err := enc.Close(); err != nil {
		return encodeErr(err)
	}
	return encodeErr(o.Flush())
}

func encodeErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("rewrite: encode base64: %w", err)
}

// encodeLine writes the 76 base64 characters of a 57-byte group, what
// base64.StdEncoding.Encode writes (byte by byte, a sixth of the
// rewrite's CPU on a 200 KB attachment; b64.EncodeLine is vector code).
func encodeLine(dst, src []byte) { b64.EncodeLine(dst, src) }
