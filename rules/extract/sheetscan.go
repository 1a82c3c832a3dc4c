package extract

import (
	"bytes"
	"errors"
	"io"
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
}

const (
	sheetWindow   = 256 << 10
	maxSheetToken = 4 << 20
)

var errTokenTooLong = errors.New("worksheet: XML token too long")

func newSheetScanner(r io.Reader) *sheetScanner {
	return &sheetScanner{r: r, buf: make([]byte, sheetWindow)}
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
		if bytes.HasPrefix(w, []byte("<!--")) || bytes.HasPrefix(w, []byte("<![CDATA[")) {
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
			return sheetEnd, localName(bytes.TrimSpace(t[1:])), nil
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
