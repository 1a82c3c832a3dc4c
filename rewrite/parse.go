package rewrite

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/sendguard/sendguard/internal/spillbuf"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// fileSink receives the attachments in message order: the zip of
// EncryptAttachments or the Store callback of ReplaceAttachments. name is
// the file's name before sanitising; the sink returns the name it used.
type fileSink interface {
	put(name, contentType string, r io.Reader) (string, error)
}

// rewriter holds one parse shared by EncryptAttachments and
// ReplaceAttachments: the top-level pieces, the kept parts spooled to a
// temp file and the attachments handed to the sink.
type rewriter struct {
	sink fileSink
	rand io.Reader // boundary source when the top level is wrapped
	top  *rawHeader
	wrap bool // the top level was not multipart/mixed: a new one is made
	// retype: the top multipart/mixed's Content-Type could only be read
	// leniently (an unclosed quote, say); the copy gets a well-formed one
	// with the same boundary, or strict readers would not find the parts.
	retype   bool
	boundary string
	preamble []byte
	kept     *spillbuf.Buffer
	// closeRest and epilogue follow the top-level close delimiter.
	closeRest, epilogue []byte
	subject             string
	files               []ZippedFile
	// keptParts counts the leaf parts left in place at every level.
	keptParts int
}

// maxDepth bounds nested multiparts; deeper nesting is refused as
// malformed (real mail stays under 5).
const maxDepth = 16

func newRewriter(sink fileSink, rnd io.Reader, tempDir string) (*rewriter, error) {
	return &rewriter{sink: sink, rand: rnd, kept: spillbuf.New(tempDir, "rewrite")}, nil
}

// read parses src, spooling kept parts and handing attachments to the
// sink, then flushes the spool for write. A message without attachments is
// not an error here: the callers check files.
func (rw *rewriter) read(src io.Reader) error {
	if err := rw.parse(src); err != nil {
		return err
	}
	_, err := rw.kept.Section() // flushed for write
	return err
}

// close releases the spool.
func (rw *rewriter) close() { rw.kept.Close() }

func (rw *rewriter) parse(src io.Reader) error {
	br := bufpool.Reader(src)
	defer bufpool.PutReader(br) // nothing read from br outlives parse
	h, err := readRawHeader(br)
	if err != nil {
		return err
	}
	rw.top = h
	rw.subject = decodeWords(h.get("Subject"))
	p := classify(h, "mixed")
	if ct := documentInside(h, p, br); ct != "" {
		p.kind, p.contentType = partAttachment, ct
	}
	if p.protected {
		return ErrSignedOrEncrypted
	}
	if p.broken {
		return fmt.Errorf("%w: multipart without a usable boundary", ErrMalformed)
	}
	switch {
	case p.kind == partContainer && p.class == "mixed":
		rw.boundary = p.boundary
		if _, _, err := mime.ParseMediaType(h.get("Content-Type")); err != nil {
			rw.retype = mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": p.boundary}) != ""
		}
		s := newPartScanner(br, p.boundary)
		defer s.release()
		if rw.preamble, err = s.preamble(); err != nil {
			return err
		}
		if _, err := rw.walk(s, rw.kept, 0, true, p.class); err != nil {
			return err
		}
		rw.closeRest = s.closeRest
		if rw.epilogue, err = s.epilogue(); err != nil {
			return err
		}
		return nil
	case p.kind == partContainer:
		// An alternative or related body: it becomes the second part of a
		// new multipart/mixed, under its own Content-* fields.
		rw.wrap = true
		if rw.boundary, err = randomBoundary(rw.rand); err != nil {
			return err
		}
		var ch []byte
		for _, f := range h.fields {
			if isContentField(f.name) {
				ch = append(ch, f.raw...)
			}
		}
		ch = append(ch, h.eol...)
		_, err := rw.container(rw.kept, ch, br, p, 0)
		return err
	case p.kind == partAttachment:
		rw.wrap = true
		if rw.boundary, err = randomBoundary(rw.rand); err != nil {
			return err
		}
		return rw.addFile(h, p, br)
	}
	return nil
}

func isContentField(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "content-")
}

// walk copies the kept parts of a container to w, each after a
// delimiter, and hands the attachments to the sink. class is the
// container's kind ("mixed", "alternative" or "related"), which decides
// what counts as an attachment. It returns the number of parts written to
// w. lead says whether the first delimiter needs the line ending that
// separates it from what precedes it (none after an empty preamble).
func (rw *rewriter) walk(s *partScanner, w *spillbuf.Buffer, depth int, lead bool, class string) (int, error) {
	written := 0
	eol := rw.top.eol
	delim := func() error {
		d := "--" + string(s.dash[2:]) + eol
		if written > 0 || lead {
			d = eol + d
		}
		_, err := w.WriteString(d)
		return err
	}
	for {
		ok, err := s.next()
		if err != nil {
			return written, err
		}
		if !ok {
			return written, nil
		}
		pbr := bufio.NewReaderSize(s, 4<<10)
		ph, err := readRawHeader(pbr)
		if err != nil {
			return written, fmt.Errorf("part %d: %w", s.parts, err)
		}
		p := classify(ph, class)
		if ct := documentInside(ph, p, pbr); ct != "" {
			p.kind, p.contentType = partAttachment, ct
		}
		if p.broken {
			return written, fmt.Errorf("part %d: %w: multipart without a usable boundary", s.parts, ErrMalformed)
		}
		if p.kind == partContainer && depth+1 >= maxDepth {
			return written, fmt.Errorf("%w: multiparts nested over %d levels", ErrMalformed, maxDepth)
		}
		switch p.kind {
		case partAttachment:
			if err := rw.addFile(ph, p, pbr); err != nil {
				return written, err
			}
		case partContainer:
			mark := w.Size()
			if err := delim(); err != nil {
				return written, err
			}
			n, err := rw.container(w, ph.bytes(), pbr, p, depth+1)
			if err != nil {
				return written, err
			}
			if n == 0 {
				// Every part was an attachment: an empty multipart is
				// invalid, so the container goes too.
				if err := w.Truncate(mark); err != nil {
					return written, err
				}
				continue
			}
			written++
		default:
			if err := delim(); err != nil {
				return written, err
			}
			if _, err := w.Write(ph.bytes()); err != nil {
				return written, err
			}
			if _, err := io.Copy(w, pbr); err != nil {
				return written, fmt.Errorf("copy part %d: %w", s.parts, err)
			}
			rw.keptParts++
			written++
		}
	}
}

// container writes a multipart entity (header, preamble, kept parts, close
// delimiter, epilogue) to w. It returns the number of parts kept; with none
// the caller removes what was written.
func (rw *rewriter) container(w *spillbuf.Buffer, header []byte, body io.Reader, p partInfo, depth int) (int, error) {
	if _, err := w.Write(header); err != nil {
		return 0, err
	}
	inner := newPartScanner(body, p.boundary)
	defer inner.release()
	pre, err := inner.preamble()
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(pre); err != nil {
		return 0, err
	}
	n, err := rw.walk(inner, w, depth, len(pre) > 0, p.class)
	if err != nil || n == 0 {
		return n, err
	}
	epi, err := inner.epilogue()
	if err != nil {
		return n, err
	}
	if _, err := w.WriteString(rw.top.eol + "--" + p.boundary + "--"); err != nil {
		return n, err
	}
	if _, err := w.Write(inner.closeRest); err != nil {
		return n, err
	}
	_, err = w.Write(epi)
	return n, err
}

func randomBoundary(r io.Reader) (string, error) {
	var b [15]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("rewrite: draw boundary: %w", err)
	}
	return "sendguard-" + hex.EncodeToString(b[:]), nil
}
