package rewrite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxHeaderBytes bounds a header block held in memory (top level or part).
// Real headers with long Received and DKIM chains stay well under it.
const maxHeaderBytes = 1 << 20

// field is one header field exactly as it appeared: the name line and its
// continuation lines, each with its own line ending.
type field struct {
	raw  []byte
	name string // as written, without the colon
}

// rawHeader is a header block kept byte for byte.
type rawHeader struct {
	fields []field
	// end is the empty line that ends the header ("\r\n" or "\n"); empty
	// when the input ended inside the header (a header-only message).
	end []byte
	// eol is the line ending to use for generated lines: the one the first
	// field used.
	eol string
}

// bytes returns the header exactly as read.
func (h *rawHeader) bytes() []byte {
	var b bytes.Buffer
	for _, f := range h.fields {
		b.Write(f.raw)
	}
	b.Write(h.end)
	return b.Bytes()
}

// readRawHeader reads a header block from br up to and including the empty
// line that ends it. A line without a colon (other than a continuation) is
// an error: rewriting around it could not keep it in place faithfully.
func readRawHeader(br *bufio.Reader) (*rawHeader, error) {
	h := &rawHeader{eol: "\r\n"}
	total := 0
	first := true
	for {
		line, err := readLine(br, maxHeaderBytes-total)
		total += len(line)
		if len(line) > 0 && first {
			first = false
			if !bytes.HasSuffix(line, []byte("\r\n")) && bytes.HasSuffix(line, []byte("\n")) {
				h.eol = "\n"
			}
		}
		switch {
		case len(line) == 0:
		case isEmptyLine(line):
			h.end = line
			return h, nil
		case line[0] == ' ' || line[0] == '\t':
			if len(h.fields) == 0 {
				return nil, fmt.Errorf("%w: header starts with a continuation line", ErrMalformed)
			}
			f := &h.fields[len(h.fields)-1]
			f.raw = append(f.raw, line...)
		default:
			i := bytes.IndexByte(line, ':')
			if i <= 0 || !validFieldName(line[:i]) {
				return nil, fmt.Errorf("%w: header line without a field name", ErrMalformed)
			}
			h.fields = append(h.fields, field{raw: append([]byte(nil), line...), name: string(line[:i])})
		}
		if err == io.EOF {
			if len(line) > 0 && line[len(line)-1] != '\n' {
				// The last field has no line ending: give it one so that
				// later additions stay on their own line.
				f := &h.fields[len(h.fields)-1]
				f.raw = append(f.raw, h.eol...)
			}
			return h, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readLine returns the next line including its ending, copied. It returns
// io.EOF with the final unterminated bytes (possibly none).
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > limit {
			return nil, ErrHeaderTooLarge
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			return line, io.EOF
		default:
			return nil, fmt.Errorf("read header: %w", err)
		}
	}
}

func isEmptyLine(l []byte) bool {
	return string(l) == "\r\n" || string(l) == "\n"
}

// validFieldName accepts RFC 5322 ftext (printable ASCII except colon).
func validFieldName(b []byte) bool {
	for _, c := range b {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// value returns the field's body (after the colon) unfolded (RFC 5322
// §2.2.3) and trimmed.
func (f field) value() string {
	return unfold(string(f.raw[len(f.name)+1:]))
}

// unfold removes line endings; the whitespace that follows them stays.
func unfold(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "")
	s = strings.ReplaceAll(s, "\n", "")
	return strings.TrimSpace(s)
}

// get returns the unfolded value of the first field named k.
func (h *rawHeader) get(k string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, k) {
			return f.value()
		}
	}
	return ""
}
