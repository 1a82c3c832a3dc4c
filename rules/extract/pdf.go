package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/dslipak/pdf"

	"github.com/sendguard/sendguard/rules"
)

// pdfFile extracts the text of a PDF with github.com/dslipak/pdf, isolated:
// a panic in the library becomes an unscannable part, and extraction is
// abandoned after Limits.PDFTimeout (or the walk's own deadline). The
// library cannot be interrupted, so an abandoned extraction finishes in its
// goroutine, which stops at the next page boundary; a child process would be
// needed to bound its memory as well.
func (w *walker) pdfFile(att *rules.Attachment, sp *spilled) result {
	ctx, cancel := context.WithTimeout(w.ctx, w.lim.PDFTimeout)
	defer cancel()
	type out struct {
		text      string
		truncated bool
		err       error
	}
	done := make(chan out, 1)
	var abandon atomic.Bool
	// A temporary file is closed when pdfFile returns; an abandoned
	// goroutine must not read it after that, so it reads from a copy only
	// when in memory and from the file under the abandon flag otherwise.
	ra := &guardedReaderAt{r: sp, stop: &abandon}
	go func() {
		var o out
		defer func() {
			if r := recover(); r != nil {
				o = out{err: fmt.Errorf("pdf reader panic: %v", r)}
			}
			done <- o
		}()
		o.text, o.truncated, o.err = pdfText(ra, sp.size, w.lim.MaxPartText, &abandon)
	}()
	var o out
	select {
	case o = <-done:
	case <-ctx.Done():
		abandon.Store(true)
		return result{unscannable: "PDF text extraction timed out"}
	}
	if o.err != nil {
		if errors.Is(o.err, pdf.ErrInvalidPassword) || hasEncryptDict(sp) {
			att.Encrypted = true
			return result{unscannable: "encrypted PDF"}
		}
		return unscannablef("unreadable PDF: %s", shortErr(o.err))
	}
	text := []byte(o.text)
	res := result{text: text, contentType: "application/pdf", charset: "utf-8", truncated: o.truncated}
	if len(bytes.TrimSpace(text)) == 0 {
		// scanned images or outlines only: nothing to inspect
		res.unscannable = "PDF has no extractable text"
	}
	return res
}

func pdfText(ra io.ReaderAt, size, maxText int64, abandon *atomic.Bool) (string, bool, error) {
	r, err := pdf.NewReader(ra, size)
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	n := r.NumPage()
	for i := 1; i <= n; i++ {
		if abandon.Load() {
			return "", false, errors.New("abandoned")
		}
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		s, err := p.GetPlainText(nil)
		if err != nil {
			return b.String(), false, err
		}
		b.WriteString(s)
		b.WriteByte('\n')
		if int64(b.Len()) > maxText {
			t, _ := capText([]byte(b.String()), maxText)
			return string(t), true, nil
		}
	}
	return b.String(), false, nil
}

// hasEncryptDict reports whether the file names an /Encrypt dictionary
// (trailer or cross-reference stream), for PDFs the reader refuses before
// reaching its password check.
func hasEncryptDict(sp *spilled) bool {
	buf := make([]byte, 64<<10)
	var carry []byte
	for off := int64(0); off < sp.size; {
		n, err := sp.ReadAt(buf, off)
		chunk := append(carry, buf[:n]...)
		if bytes.Contains(chunk, []byte("/Encrypt")) {
			return true
		}
		carry = append([]byte(nil), chunk[max(0, len(chunk)-8):]...)
		off += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	return false
}

// guardedReaderAt fails reads once extraction is abandoned, so a late
// goroutine never touches a closed spill file.
type guardedReaderAt struct {
	r    io.ReaderAt
	stop *atomic.Bool
}

func (g *guardedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if g.stop.Load() {
		return 0, errors.New("pdf extraction abandoned")
	}
	return g.r.ReadAt(p, off)
}
