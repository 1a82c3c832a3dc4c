// Package b64 decodes base64 message bodies in bulk, with the results of
// base64.NewDecoder behind a filter of line breaks, spaces and tabs (what
// go-message does for a part): the rewrite and the sent records read
// attachments through it.
package b64

import (
	"bytes"
	"encoding/base64"
	"io"
	"sync"
)

// Reader decodes a base64 body in bulk: one pass drops line breaks and
// the spaces and tabs some mailers leave at line ends, then whole quanta
// go through Encoding.Decode. (base64.NewDecoder behind a space filter
// made two more byte-at-a-time passes and showed in profiles of the
// encrypt path.) Errors are those of base64.NewDecoder: corrupt input,
// data after padding, or a truncated last quantum.
type Reader struct {
	r      io.Reader
	in     []byte
	q      []byte // filtered characters not yet decoded (fewer than 4 between reads)
	out    []byte // decoded bytes not yet returned
	obuf   []byte
	padded bool // a quantum with '=' was decoded: nothing may follow
	err    error
}

const base64Chunk = 32 << 10

// readers holds readers between attachments: their three buffers
// (about 88 KiB) were most of the bytes the encrypt path allocated for a
// small message.
var readers = sync.Pool{New: func() any {
	return &Reader{
		in:   make([]byte, base64Chunk),
		q:    make([]byte, 0, base64Chunk+4),
		obuf: make([]byte, base64.StdEncoding.DecodedLen(base64Chunk+4)),
	}
}}

// NewReader returns a pooled reader; Release gives it back.
func NewReader(r io.Reader) *Reader {
	d := readers.Get().(*Reader)
	d.r = r
	return d
}

// Release returns the reader to the pool once its bytes are consumed; the
// bytes it returned were copied into the caller's buffers.
func (d *Reader) Release() {
	d.r, d.q, d.out, d.padded, d.err = nil, d.q[:0], nil, false, nil
	readers.Put(d)
}

func (d *Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, rerr := d.r.Read(d.in)
		d.q = filter(d.q, d.in[:n])
		if d.padded && len(d.q) > 0 {
			d.err = base64.CorruptInputError(0)
			return 0, d.err
		}
		k := len(d.q) &^ 3
		if rerr != nil {
			k = len(d.q) // at the end a short quantum is an error, as in base64.NewDecoder
		}
		if k > 0 {
			m, derr := base64.StdEncoding.Decode(d.obuf, d.q[:k])
			d.out = d.obuf[:m]
			if d.q[k-1] == '=' {
				d.padded = true
			}
			if derr != nil {
				d.err = derr
			} else if rerr != nil && k%4 != 0 {
				d.err = io.ErrUnexpectedEOF
			}
			d.q = d.q[:copy(d.q, d.q[k:])]
		}
		if rerr != nil && d.err == nil {
			d.err = rerr
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// filter appends in to q without line breaks, spaces and tabs. A line
// with none of them but its CRLF, the usual case, is appended whole.
func filter(q, in []byte) []byte {
	for len(in) > 0 {
		line := in
		if nl := bytes.IndexByte(in, '\n'); nl >= 0 {
			line, in = in[:nl], in[nl+1:]
		} else {
			in = nil
		}
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		if bytes.IndexByte(line, '\r') < 0 && bytes.IndexByte(line, ' ') < 0 && bytes.IndexByte(line, '\t') < 0 {
			q = append(q, line...)
			continue
		}
		for _, c := range line {
			switch c {
			case '\r', ' ', '\t':
			default:
				q = append(q, c)
			}
		}
	}
	return q
}
