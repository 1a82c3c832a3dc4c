package rewrite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// refRead is the scanner's former Read, one line per call: the reference
// the bulk Read is held to.
func (s *partScanner) refRead(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.partDone {
			return 0, io.EOF
		}
		line, err := s.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && err != io.EOF {
			return 0, fmt.Errorf("read multipart: %w", err)
		}
		complete := err == nil || err == io.EOF
		if s.lineStart && complete && len(line) > 0 {
			if kind := s.delimiter(line); kind != 0 {
				s.partDone, s.eol = true, nil
				if kind == 2 {
					s.closed = true
					s.closeRest = append([]byte(nil), line[len(s.dash)+2:]...)
				}
				return 0, io.EOF
			}
			if err := s.ambiguity(line); err != nil {
				return 0, err
			}
		}
		s.buf = append(s.buf[:0], s.eol...)
		s.eol = nil
		switch {
		case err == nil:
			body, eol := splitEOL(line)
			s.buf = append(s.buf, body...)
			s.eol = s.eolBuf[:copy(s.eolBuf[:], eol)]
			s.lineStart = true
		default:
			s.buf = append(s.buf, line...)
			s.lineStart = false
		}
		s.out = s.buf
		if err == io.EOF && len(s.out) == 0 {
			return 0, fmt.Errorf("%w: multipart not terminated", ErrMalformed)
		}
		if err == io.EOF {
			// Return what is left; the next call reports the error.
			s.eol = nil
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// scanAll reads every part of a multipart body through a partScanner with
// reads of size n: the parts' bytes, the close delimiter's rest and the
// error that ended the scan.
func scanAll(body []byte, boundary string, n int, ref bool) (parts []string, closeRest string, err error) {
	s := newPartScanner(bytes.NewReader(body), boundary)
	defer s.release()
	buf := make([]byte, n)
	read := func() (string, error) {
		var b strings.Builder
		for {
			read := s.Read
			if ref {
				read = s.refRead
			}
			k, err := read(buf)
			b.Write(buf[:k])
			if err == io.EOF {
				return b.String(), nil
			}
			if err != nil {
				return b.String(), err
			}
		}
	}
	pre, err := read()
	parts = append(parts, pre)
	for err == nil {
		var ok bool
		if ok, err = s.next(); !ok || err != nil {
			break
		}
		var p string
		p, err = read()
		parts = append(parts, p)
	}
	return parts, string(s.closeRest), err
}

// TestPartScannerReadSizes: a part reads the same whatever the size of
// the reads (one byte, less than a line, many lines, more than the part)
// and as it did when Read returned one line per call,
// for line endings, transport padding, long lines, a missing close
// delimiter and a body cut inside a line.
func TestPartScannerReadSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bodies := []string{
		"pre\r\n--b\r\nA: 1\r\n\r\nline\r\nline2\r\n--b \t\r\n\r\nx\r\n--b--\r\nepi",
		"--b\nA: 1\n\nline\n--bx\n--b--\n",
		"--b\r\n\r\n" + strings.Repeat("y", 70<<10) + "\r\n--b\r\n\r\nz\r\n--b--",
		"--b\r\n\r\nno close\r\n",
		"--b\r\n\r\ncut",
		"--b\r\n\r\n\r\n\r\n--b--\r\n",
	}
	for range 300 {
		var b strings.Builder
		b.WriteString("--b\r\n")
		for range rng.IntN(200) {
			switch rng.IntN(9) {
			case 0:
				b.WriteString("--b\r\n")
			case 1:
				b.WriteString("\n")
			case 6:
				b.WriteString([]string{"-", "--", "--bb", "--b--x", "--b \t", "-x\r"}[rng.IntN(6)] + "\r\n")
			case 7:
				b.WriteString("\r\n")
			case 8:
				b.WriteString("\r")
			case 2:
				b.WriteString(strings.Repeat("q", rng.IntN(300)) + "\r\n")
			default:
				b.WriteString(strings.Repeat("QUJD", 19) + "\r\n")
			}
		}
		if rng.IntN(2) == 0 {
			b.WriteString("--b--\r\n")
		}
		bodies = append(bodies, b.String())
	}
	for i, body := range bodies {
		want, wantRest, wantErr := scanAll([]byte(body), "b", 32<<10, true)
		for _, n := range []int{1, 2, 3, 50, 77, 78, 4 << 10, 32 << 10, 1 << 20} {
			got, rest, err := scanAll([]byte(body), "b", n, false)
			if strings.Join(got, "|") != strings.Join(want, "|") || rest != wantRest ||
				(err == nil) != (wantErr == nil) || !errors.Is(err, ErrMalformed) && errors.Is(wantErr, ErrMalformed) {
				t.Fatalf("body %d, reads of %d: %q %q %v, formerly: %q %q %v", i, n, got, rest, err, want, wantRest, wantErr)
			}
		}
	}
}

// TestAmbiguousDelimiter: a line that Go's mime/multipart (and so
// go-message) would take for the end of the part and then fail on makes
// the message malformed for the rewrite; lines no reader takes for a
// delimiter, and delimiters with transport padding, do not.
func TestAmbiguousDelimiter(t *testing.T) {
	msg := func(line string) string {
		return "From: a@example.com\r\nTo: b@partner.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n" + line + "\r\nmore\r\n" +
			"--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
	}
	for _, line := range []string{"--b x", "--b\tx", "--b\r0", "--b--x", "--b-- x"} {
		_, err := EncryptAttachments(&bytes.Buffer{}, strings.NewReader(msg(line)), testOptions())
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", line, err)
		}
	}
	for _, line := range []string{"--bx", "--b-x", "-- b", "x--b x"} {
		var out bytes.Buffer
		if _, err := EncryptAttachments(&out, strings.NewReader(msg(line)), testOptions()); err != nil {
			t.Errorf("%q: %v", line, err)
		} else if !strings.Contains(out.String(), "\r\n"+line+"\r\nmore\r\n") {
			t.Errorf("%q: line not kept as text", line)
		}
	}
}
