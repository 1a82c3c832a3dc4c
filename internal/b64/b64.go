// Package b64 decodes base64 message bodies in bulk, with the results of
// base64.NewDecoder behind a filter of line breaks, spaces and tabs (what
// go-message does for a part): the rewrite and the sent records read
// attachments through it. Decode (inspection's decoder uses it too) and
// EncodeLine, the rewrite's line encoder, use AVX2 where the CPU has it.
package b64

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"slices"
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
			m, derr := Decode(d.obuf, d.q[:k])
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

// filter appends in to q without line breaks, spaces and tabs. All four
// are below '!' and base64 text is not, which lets it test eight bytes at
// once. Lines usually have one length and end in CRLF: once a line is
// seen, the next ones of the same length are copied word by word while
// checked, and the first that fails the check goes the general way.
func filter(q, in []byte) []byte {
	q = slices.Grow(q, len(in))
	j := len(q)
	q = q[:cap(q)] // no write passes the old length plus len(in)
	for i := 0; i < len(in); {
		nl := bytes.IndexByte(in[i:], '\n')
		if nl < 0 {
			return q[:filterWords(q, j, in[i:])]
		}
		j = filterWords(q, j, in[i:i+nl])
		i += nl + 1
		if nl < 9 || in[i-2] != '\r' {
			continue
		}
		for n := nl - 1; i+n+2 <= len(in) && in[i+n] == '\r' && in[i+n+1] == '\n'; {
			line := in[i : i+n]
			if !clean(line) {
				break // a byte below '!' in the line: the general way
			}
			j += copy(q[j:], line)
			i += n + 2
		}
	}
	return q[:j]
}

// clean reports whether no byte of line (at least 8 long) is below '!'.
func clean(line []byte) bool {
	const ones, high = 0x2121212121212121, 0x8080808080808080
	// Last word first (overlapping unless len%8 == 0); reslicing, not
	// indexing, keeps bounds checks out of the loop.
	w := binary.LittleEndian.Uint64(line[len(line)-8:])
	low := (w - ones) &^ w
	for len(line) >= 16 {
		w, v := binary.LittleEndian.Uint64(line), binary.LittleEndian.Uint64(line[8:16])
		low |= (w-ones)&^w | (v-ones)&^v
		line = line[16:]
	}
	if len(line) >= 8 {
		w := binary.LittleEndian.Uint64(line)
		low |= (w - ones) &^ w
	}
	return low&high == 0
}

// filterWords writes in to q[j:] without line breaks, spaces and tabs and
// returns the new end; q must have room for all of in after j.
func filterWords(q []byte, j int, in []byte) int {
	i := 0
	for ; i+8 <= len(in); i += 8 {
		w := binary.LittleEndian.Uint64(in[i:])
		// Nonzero iff some byte of w is below 0x21 (exact for bounds up to 0x80).
		if (w-0x2121212121212121)&^w&0x8080808080808080 == 0 {
			binary.LittleEndian.PutUint64(q[j:], w)
			j += 8
			continue
		}
		for _, c := range in[i : i+8] {
			q[j] = c
			j += int(keep[c])
		}
	}
	for _, c := range in[i:] {
		q[j] = c
		j += int(keep[c])
	}
	return j
}

// keep is 0 for the bytes filter drops and 1 for the others.
var keep = func() (t [256]uint8) {
	for i := range t {
		t[i] = 1
	}
	for _, c := range "\r\n \t" {
		t[c] = 0
	}
	return t
}()
