package extract

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// sheetScanner reads a worksheet part, by far the largest XML in a
// workbook, straight from a window of the inflated stream: it jumps from
// '<' to '<' with vectorised searches and hands over only the tags and
// text a sheet needs, without copying each token as xmlScanner does. The
// window grows only for a tag or text run longer than itself, up to
// maxSheetToken.
type sheetScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error
	pooled   *[]byte // the window as taken from sheetBufs
}

const (
	sheetWindow   = 256 << 10
	maxSheetToken = 4 << 20
)

var errTokenTooLong = errors.New("worksheet: XML token too long")

// sheetBufs are the scanners' windows, reused: a 256 KiB window made and
// cleared per sheet cost more than scanning a small workbook.
var sheetBufs = sync.Pool{New: func() any { b := make([]byte, sheetWindow); return &b }}

func newSheetScanner(r io.Reader) *sheetScanner {
	bp := sheetBufs.Get().(*[]byte)
	return &sheetScanner{r: r, buf: *bp, pooled: bp}
}

// release gives the window back (unless a long token grew it); the
// scanner and every slice it returned are dead after it.
func (s *sheetScanner) release() {
	if s.pooled != nil && len(s.buf) == sheetWindow && &s.buf[0] == &(*s.pooled)[0] {
		sheetBufs.Put(s.pooled)
	}
	s.pooled, s.buf = nil, nil
}

// fill keeps buf[pos:end], moves it to the front and reads more. It
// reports false when nothing more can be read.
func (s *sheetScanner) fill() bool {
	if s.eof {
		return false
	}
	n := copy(s.buf, s.buf[s.pos:s.end])
	s.pos, s.end = 0, n
	if s.end == len(s.buf) {
		if len(s.buf) >= maxSheetToken {
			s.err = errTokenTooLong
			return false
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for s.end < len(s.buf) {
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
			break
		}
		if m > 0 {
			break
		}
	}
	return true
}

// sheetToken kinds.
const (
	sheetText = iota + 1
	sheetStart
	sheetEnd
	sheetSelfClose
	sheetCDATA
)

// next returns the next token: text (raw, still escaped), CDATA content,
// or a tag's local name and raw attributes. Comments, processing
// instructions and DOCTYPE are skipped. The slices are valid until the
// next call. At the end it returns 0 and s.err (nil at a clean EOF).
func (s *sheetScanner) next() (kind int, name, attrs []byte) {
	for {
		if s.pos == s.end {
			if !s.fill() {
				return 0, nil, nil
			}
			continue // the read may have brought nothing (EOF)
		}
		if s.buf[s.pos] != '<' {
			i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
			if i < 0 {
				// text runs to the window's end: get all of it
				if !s.fill() {
					t := s.buf[s.pos:s.end]
					s.pos = s.end
					return sheetText, t, nil
				}
				continue
			}
			t := s.buf[s.pos : s.pos+i]
			s.pos += i
			return sheetText, t, nil
		}
		// comments and CDATA may hold quotes and '>': find their own ends
		if s.end-s.pos < 9 && !s.eof {
			s.fill()
			continue
		}
		w := s.buf[s.pos:s.end]
		if len(w) > 1 && w[1] == '!' && (bytes.HasPrefix(w, []byte("<!--")) || bytes.HasPrefix(w, []byte("<![CDATA["))) {
			cdata := w[1] == '!' && w[2] == '['
			term := []byte("-->")
			if cdata {
				term = []byte("]]>")
			}
			end := bytes.Index(w[4:], term)
			if end < 0 {
				if !s.fill() {
					if s.err == nil {
						s.err = io.ErrUnexpectedEOF
					}
					return 0, nil, nil
				}
				continue
			}
			end += 4
			s.pos += end + 3
			if cdata {
				return sheetCDATA, w[9:end], nil
			}
			continue
		}
		// a tag: find its '>' outside quoted attribute values
		gt, ok := s.tagEnd()
		if !ok {
			if !s.fill() {
				if s.err == nil && s.pos < s.end {
					s.err = io.ErrUnexpectedEOF
				}
				return 0, nil, nil
			}
			continue
		}
		t := s.buf[s.pos+1 : gt]
		s.pos = gt + 1
		switch {
		case len(t) > 0 && (t[0] == '?' || t[0] == '!'):
			continue
		case len(t) > 0 && t[0] == '/':
			t = t[1:]
			if len(t) > 0 && t[len(t)-1] <= ' ' {
				t = bytes.TrimSpace(t)
			}
			return sheetEnd, localName(t), nil
		}
		kind = sheetStart
		if len(t) > 0 && t[len(t)-1] == '/' {
			kind, t = sheetSelfClose, t[:len(t)-1]
		}
		n := 0
		for n < len(t) && t[n] != ' ' && t[n] != '\t' && t[n] != '\r' && t[n] != '\n' {
			n++
		}
		return kind, localName(t[:n]), t[n:]
	}
}

// tagEnd finds the '>' closing the tag at pos within the window. Sheet
// tags are short, so one byte loop that also tracks quotes beats a
// vectorised search followed by a quote count.
func (s *sheetScanner) tagEnd() (int, bool) {
	quote := byte(0)
	b := s.buf[:s.end]
	// the common case: the first '>' ends the tag, with no single quote
	// and balanced double quotes before it
	if gt := bytes.IndexByte(b[s.pos+1:], '>'); gt >= 0 {
		t := b[s.pos+1 : s.pos+1+gt]
		dq := 0
		for _, c := range t {
			if c == '"' {
				dq++
			}
		}
		if dq%2 == 0 && bytes.IndexByte(t, '\'') < 0 {
			return s.pos + 1 + gt, true
		}
	} else {
		return 0, false
	}
	for i := s.pos + 1; i < len(b); i++ {
		switch c := b[i]; c {
		case '>':
			if quote == 0 {
				return i, true
			}
		case '"', '\'':
			if quote == 0 {
				quote = c
			} else if quote == c {
				quote = 0
			}
		}
	}
	return 0, false
}

// cellValue reads "<v>TEXT</v></c>" or "<is><t>TEXT</t></is></c>" (an
// inline string) at the scanner's position in one step: the forms nearly
// every cell of a sheet takes, five or seven tokens otherwise. It consumes
// nothing and reports false for any other form, or when the window ends
// inside it (the token path then reads it).
func (s *sheetScanner) cellValue() (val []byte, ok bool) {
	w := s.buf[s.pos:s.end]
	open, end := "<v>", "</v></c>"
	switch {
	case bytes.HasPrefix(w, []byte("<v>")):
	case bytes.HasPrefix(w, []byte("<is><t>")):
		open, end = "<is><t>", "</t></is></c>"
	default:
		return nil, false
	}
	i := bytes.IndexByte(w[len(open):], '<')
	if i < 0 || !bytes.HasPrefix(w[len(open)+i:], []byte(end)) {
		return nil, false
	}
	s.pos += len(open) + i + len(end)
	return w[len(open) : len(open)+i], true
}

// cellAttrs returns the r and t attributes of a c tag in one pass (raw:
// neither ever holds an entity in a valid sheet; a value with '&' is
// unescaped).
func cellAttrs(a []byte) (ref, typ []byte) {
	for len(a) > 0 {
		eq := bytes.IndexByte(a, '=')
		if eq < 0 {
			return
		}
		key := a[:eq]
		for len(key) > 0 && key[0] <= ' ' {
			key = key[1:]
		}
		for len(key) > 0 && key[len(key)-1] <= ' ' {
			key = key[:len(key)-1]
		}
		a = a[eq+1:]
		for len(a) > 0 && a[0] <= ' ' {
			a = a[1:]
		}
		if len(a) == 0 || a[0] != '"' && a[0] != '\'' {
			return
		}
		endq := bytes.IndexByte(a[1:], a[0])
		if endq < 0 {
			return
		}
		val := a[1 : 1+endq]
		a = a[2+endq:]
		if len(key) != 1 {
			if key = localName(key); len(key) != 1 {
				continue
			}
		}
		if bytes.IndexByte(val, '&') >= 0 {
			val = unescapeXML(nil, val)
		}
		switch key[0] {
		case 'r':
			if ref == nil {
				ref = val
			}
		case 't':
			if typ == nil {
				typ = val
			}
		}
	}
	return
}

// cellTag reads a plain cell tag, `<c r="A1" s="2" t="s">` or its empty
// form, at the scanner's position in one pass over its bytes, returning
// its r and t attributes. Anything else (another tag, a prefix, spaces
// around '=', an entity in a value, a tag the window cuts) consumes
// nothing and reports false: next reads it.
func (s *sheetScanner) cellTag() (ref, typ []byte, self, ok bool) {
	b := s.buf[s.pos:s.end]
	if len(b) < 3 || b[0] != '<' || b[1] != 'c' || (b[2] != ' ' && b[2] != '>' && b[2] != '/') {
		return nil, nil, false, false
	}
	i := 2
	for i < len(b) {
		switch c := b[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case c == '>':
			s.pos += i + 1
			return ref, typ, false, true
		case c == '/':
			if i+1 < len(b) && b[i+1] == '>' {
				s.pos += i + 2
				return ref, typ, true, true
			}
			return nil, nil, false, false
		}
		// name="value"
		k := i
		for i < len(b) && b[i] != '=' && b[i] > ' ' && b[i] != '>' && b[i] != ':' {
			i++
		}
		if i+1 >= len(b) || b[i] != '=' || b[i+1] != '"' && b[i+1] != '\'' {
			return nil, nil, false, false
		}
		key, q := b[k:i], b[i+1]
		i += 2
		v := i
		for i < len(b) && b[i] != q {
			if b[i] == '&' {
				return nil, nil, false, false
			}
			i++
		}
		if i >= len(b) {
			return nil, nil, false, false
		}
		if len(key) == 1 {
			switch key[0] {
			case 'r':
				if ref == nil {
					ref = b[v:i]
				}
			case 't':
				if typ == nil {
					typ = b[v:i]
				}
			}
		}
		i++
	}
	return nil, nil, false, false
}
