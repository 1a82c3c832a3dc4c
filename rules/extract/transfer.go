package extract

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sendguard/sendguard/internal/b64"
)

// transferDecoder undoes a Content-Transfer-Encoding. Unknown encodings are
// read as-is and reported; "7-bit", "8bits" and similar misspellings are
// accepted silently as identity encodings.
func transferDecoder(cte string, r io.Reader) (io.Reader, string) {
	c := strings.ToLower(strings.Trim(strings.TrimSpace(cte), `";`))
	switch {
	case c == "" || c == "7bit" || c == "8bit" || c == "binary":
		return r, ""
	case strings.Contains(c, "base64"):
		return newBase64Reader(r), ""
	case strings.Contains(c, "quoted"):
		return newQPReader(r), ""
	case strings.HasPrefix(c, "7") || strings.HasPrefix(c, "8") || c == "plain" || c == "none":
		return r, ""
	}
	return r, "unknown transfer encoding " + quoteShort(cte) + "; read as-is"
}

// base64Reader decodes base64 leniently: characters outside the alphabet
// are skipped (counted in bad), URL-safe characters are accepted, and
// padding in the middle (concatenated encodings) restarts the quantum.
type base64Reader struct {
	r    io.Reader
	buf  []byte
	acc  uint32
	bits uint
	out  []byte // decoded bytes not yet returned, a window of outBuf
	obuf []byte
	bad  int
	err  error
	// q counts alphabet and padding characters modulo 4, padded is set
	// from the first '=' on, and odd by anything a strict decoder
	// (base64.StdEncoding behind a line and blank filter) would refuse
	// or read otherwise: see clean.
	q      uint8
	padded bool
	odd    bool

	pooled *b64Buf
}

// b64Bufs are the decoders' input and output buffers (28 KiB a part).
var b64Bufs = sync.Pool{New: func() any { return &b64Buf{} }}

type b64Buf struct {
	in  [16 << 10]byte
	out [12<<10 + 3]byte
}

func newBase64Reader(r io.Reader) *base64Reader {
	b := b64Bufs.Get().(*b64Buf)
	return &base64Reader{r: r, buf: b.in[:], obuf: b.out[:0], pooled: b}
}

// release gives the buffers back; the reader must not be used after it.
func (d *base64Reader) release() {
	if d.pooled != nil {
		b64Bufs.Put(d.pooled)
		d.pooled, d.buf, d.obuf, d.out = nil, nil, nil, nil
	}
}

var b64val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = int8(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// clean reports whether the input read so far is standard base64 that
// ends complete: only the standard alphabet, blanks and line breaks, '='
// only as the last quantum's padding. On such input this decoder's bytes
// are base64.StdEncoding's, as a strict decoder (go-message's) reads it.
func (d *base64Reader) clean() bool { return d.bad == 0 && !d.odd && d.q == 0 }

// problem reports skipped characters once the stream is read.
func (d *base64Reader) problem() string {
	if d.bad == 0 {
		return ""
	}
	return "base64: " + strconv.Itoa(d.bad) + " invalid characters skipped"
}

func (d *base64Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.buf)
		out := d.obuf[:0]
		in := d.buf[:n]
		for len(in) > 0 {
			nl := bytes.IndexByte(in, '\n')
			if nl < 0 {
				out = d.slow(out, in)
				break
			}
			line := in[:nl]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			// A whole well-formed line at a quantum boundary, the usual
			// case, goes through the library's decoder; anything else
			// (a line cut by the read, stray characters, URL-safe
			// letters, padding inside) byte by byte.
			if d.bits == 0 && len(line) > 0 && len(line)%4 == 0 {
				k := len(out)
				out = slices.Grow(out, len(line)/4*3)
				if m, derr := b64.Decode(out[k:k+len(line)/4*3], line); derr == nil {
					out = out[:k+m]
					// whole quanta (line breaks skipped), padding only at
					// the end of the line
					if d.padded || d.q != 0 {
						d.odd = true
					}
					d.padded = d.padded || bytes.IndexByte(line, '=') >= 0
					in = in[nl+1:]
					continue
				}
				out = out[:k]
			}
			out = d.slow(out, in[:nl+1])
			in = in[nl+1:]
		}
		d.out = out
		if err != nil {
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// slow decodes in byte by byte, carrying the quantum across calls.
func (d *base64Reader) slow(out, in []byte) []byte {
	for _, c := range in {
		v := b64val[c]
		if v < 0 {
			switch c {
			case '=':
				d.acc, d.bits = 0, 0
				d.odd = d.odd || d.q < 2
				d.padded = true
				d.q = (d.q + 1) & 3
			case ' ', '\t', '\r', '\n':
			default:
				d.bad++
			}
			continue
		}
		d.odd = d.odd || d.padded || c == '-' || c == '_'
		d.q = (d.q + 1) & 3
		d.acc = d.acc<<6 | uint32(v)
		d.bits += 6
		if d.bits >= 8 {
			d.bits -= 8
			out = append(out, byte(d.acc>>d.bits))
			d.acc &= 1<<d.bits - 1
		}
	}
	return out
}

// qpReader decodes quoted-printable leniently: malformed escapes are kept
// literally instead of failing like mime/quotedprintable.
type qpReader struct {
	br   *bufio.Reader
	out  []byte // decoded bytes not yet returned, a window of obuf
	obuf []byte
	err  error
}

func newQPReader(r io.Reader) *qpReader { return &qpReader{br: bufio.NewReaderSize(r, 16<<10)} }

func (q *qpReader) Read(p []byte) (int, error) {
	for len(q.out) == 0 {
		if q.err != nil {
			return 0, q.err
		}
		line, err := q.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			err = nil // a very long line: decode it in pieces
		} else if err != nil {
			q.err = err
		}
		q.obuf = decodeQPLine(q.obuf[:0], line)
		q.out = q.obuf
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

func decodeQPLine(dst, line []byte) []byte {
	hasNL := bytes.HasSuffix(line, []byte("\n"))
	body := bytes.TrimRight(line, " \t\r\n")
	soft := bytes.HasSuffix(body, []byte("="))
	if soft {
		body = body[:len(body)-1]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '=' && i+2 < len(body) {
			if h, ok := unhex(body[i+1]); ok {
				if l, ok := unhex(body[i+2]); ok {
					dst = append(dst, h<<4|l)
					i += 2
					continue
				}
			}
		}
		dst = append(dst, c)
	}
	if hasNL && !soft {
		dst = append(dst, '\n')
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}
