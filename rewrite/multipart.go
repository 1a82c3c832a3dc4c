package rewrite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// partScanner splits a multipart body (RFC 2046 §5.1.1) into its raw
// parts without decoding or copying them whole. It is an io.Reader over the
// current part: the preamble first, then each part after next. The line
// ending before a delimiter line belongs to the delimiter, so a part's
// bytes are exactly those between two delimiter lines.
type partScanner struct {
	br        *bufio.Reader
	dash      []byte // "--" + boundary
	err       error  // a malformed structure, returned by every Read after
	out       []byte // bytes of the current part ready to return
	buf       []byte
	eol       []byte // line ending read but not yet known to be content
	eolBuf    [2]byte
	lineStart bool
	partDone  bool
	closed    bool   // the close delimiter was read
	closeRest []byte // the close delimiter line after "--boundary--"
	parts     int
	pooled    bool // br came from the pool; release returns it
}

func newPartScanner(r io.Reader, boundary string) *partScanner {
	s := &partScanner{dash: []byte("--" + boundary), lineStart: true}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= bufpool.ReaderSize {
		s.br = br // already buffered (the message's own reader)
	} else {
		s.br, s.pooled = bufpool.Reader(r), true
	}
	return s
}

// release returns a pooled reader once the scanner is done; everything the
// scanner handed out (Read's bytes, preamble, epilogue, closeRest) is a copy.
func (s *partScanner) release() {
	if s.pooled {
		bufpool.PutReader(s.br)
		s.br, s.pooled = nil, false
	}
}

// maxPreamble bounds the preamble and epilogue kept in memory.
const maxPreamble = 64 << 10

// preamble reads what precedes the first delimiter.
func (s *partScanner) preamble() ([]byte, error) {
	p, err := io.ReadAll(io.LimitReader(s, maxPreamble+1))
	if err != nil {
		return nil, err
	}
	if len(p) > maxPreamble {
		return nil, fmt.Errorf("%w: multipart preamble over %d bytes", ErrMalformed, maxPreamble)
	}
	if s.closed {
		return nil, fmt.Errorf("%w: multipart without parts", ErrMalformed)
	}
	return p, nil
}

// next moves to the next part, skipping what is left of the current one.
// It returns false after the close delimiter.
func (s *partScanner) next() (bool, error) {
	if !s.partDone {
		if _, err := io.Copy(io.Discard, s); err != nil {
			return false, err
		}
	}
	if s.closed {
		return false, nil
	}
	s.partDone, s.lineStart, s.eol, s.out = false, true, nil, nil
	s.parts++
	return true, nil
}

// epilogue returns the bytes after the close delimiter line.
func (s *partScanner) epilogue() ([]byte, error) {
	p, err := io.ReadAll(io.LimitReader(s.br, maxPreamble+1))
	if err != nil {
		return nil, fmt.Errorf("read epilogue: %w", err)
	}
	if len(p) > maxPreamble {
		return nil, fmt.Errorf("%w: multipart epilogue over %d bytes", ErrMalformed, maxPreamble)
	}
	return p, nil
}

// Read returns as many of the part's lines as fit in p: one line per call
// made every reader above it (base64, the zip) run once per 76 characters.
// A line is copied straight into p; only what does not fit waits in buf.
func (s *partScanner) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	for n < len(p) {
		if s.partDone {
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if s.lineStart {
			if k, ok := s.bulk(p[n:]); ok {
				n += k
				continue
			}
		}
		line, err := s.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && err != io.EOF {
			return n, fmt.Errorf("read multipart: %w", err)
		}
		complete := err == nil || err == io.EOF
		if s.lineStart && complete && len(line) > 0 {
			if kind := s.delimiter(line); kind != 0 {
				s.partDone, s.eol = true, nil
				if kind == 2 {
					s.closed = true
					s.closeRest = append([]byte(nil), line[len(s.dash)+2:]...)
				}
				continue
			}
			if err := s.ambiguity(line); err != nil {
				s.err = err // sticky: a bufio.Reader above hands an error out once
				return n, err
			}
		}
		// The pending line ending (copied: eolBuf takes this line's), then
		// the line without its own.
		var pb [2]byte
		pending := pb[:copy(pb[:], s.eol)]
		s.eol = nil
		body := line
		switch {
		case err == nil:
			var eol []byte
			body, eol = splitEOL(line)
			s.eol = s.eolBuf[:copy(s.eolBuf[:], eol)]
			s.lineStart = true
		default:
			s.lineStart = false
		}
		if err == io.EOF {
			if len(pending)+len(body) == 0 {
				return n, fmt.Errorf("%w: multipart not terminated", ErrMalformed)
			}
			// Return what is left; the next call reports the error.
			s.eol = nil
		}
		if len(pending)+len(body) <= len(p)-n {
			n += copy(p[n:], pending)
			n += copy(p[n:], body)
			continue
		}
		s.buf = append(append(s.buf[:0], pending...), body...)
		k := copy(p[n:], s.buf)
		s.out = s.buf[k:]
		return n + k, nil
	}
	return n, nil
}

// bulk copies into dst, at a line start, the whole lines already
// buffered up to the first that begins with '-' (which may be a
// delimiter), as Read's line by line path would: the pending line ending,
// the lines, the last one's ending held back. It returns false where that
// path must decide (no whole line buffered, a line beginning with '-', dst
// too short for a line).
func (s *partScanner) bulk(dst []byte) (int, bool) {
	room := len(dst) - len(s.eol)
	if room <= 0 {
		return 0, false
	}
	b, _ := s.br.Peek(min(s.br.Buffered(), room+1))
	if len(b) == 0 || b[0] == '-' {
		return 0, false
	}
	if i := bytes.Index(b, []byte("\n-")); i >= 0 {
		b = b[:i+1]
	}
	cut := bytes.LastIndexByte(b, '\n')
	if cut < 0 {
		return 0, false
	}
	body, eol := splitEOL(b[:cut+1]) // len(body) <= cut <= room
	k := copy(dst, s.eol)
	k += copy(dst[k:], body)
	s.eol = s.eolBuf[:copy(s.eolBuf[:], eol)]
	s.br.Discard(cut + 1)
	return k, true
}

// delimiter returns 1 for a delimiter line, 2 for the close delimiter and
// 0 otherwise. Trailing spaces and tabs (transport padding) are allowed.
func (s *partScanner) delimiter(line []byte) int {
	if !bytes.HasPrefix(line, s.dash) {
		return 0
	}
	rest, _ := splitEOL(line[len(s.dash):])
	kind := 1
	if bytes.HasPrefix(rest, []byte("--")) {
		kind, rest = 2, rest[2:]
	}
	if len(bytes.Trim(rest, " \t")) != 0 {
		return 0
	}
	return kind
}

// ambiguity returns ErrMalformed for a line that is not a delimiter here
// but is one to readers built on Go's mime/multipart, go-message's among
// them: they end the part at the boundary when a space, a tab, a CR or
// "--" follows it, and then fail on the rest of the line. Kept, such a
// line would make the rewritten message read differently there (parts
// after it unseen, the zip among them), so the rewrite refuses it.
func (s *partScanner) ambiguity(line []byte) error {
	if !bytes.HasPrefix(line, s.dash) {
		return nil
	}
	rest := line[len(s.dash):]
	if bytes.HasPrefix(rest, []byte("--")) || len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r') {
		return fmt.Errorf("%w: line %.40q could be read as a delimiter", ErrMalformed, line)
	}
	return nil
}

// splitEOL splits a trailing "\r\n" or "\n" off a line.
func splitEOL(line []byte) (body, eol []byte) {
	switch {
	case bytes.HasSuffix(line, []byte("\r\n")):
		return line[:len(line)-2], line[len(line)-2:]
	case bytes.HasSuffix(line, []byte("\n")):
		return line[:len(line)-1], line[len(line)-1:]
	}
	return line, nil
}
