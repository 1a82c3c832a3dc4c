package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dslipak/pdf"

	"github.com/sendguard/sendguard/rules"
)

// pdfFile extracts the text of a PDF with github.com/dslipak/pdf in an
// extraction worker (sandbox.go): the library cannot be interrupted and
// inflates streams without a limit, so it runs in a child process that the
// budget (Limits.PDFTimeout, PDFCPU, PDFMemory) ends for certain. A stopped
// or failed extraction is an unscannable part with a plain reason.
func (w *walker) pdfFile(att *rules.Attachment, sp *spilled) result {
	b := budget{
		wall:     w.lim.PDFTimeout,
		cpu:      w.lim.PDFCPU,
		memory:   w.lim.PDFMemory,
		maxIn:    max(sp.size, 1),
		maxText:  w.lim.MaxPartText,
		ratio:    w.lim.MaxRatio,
		inflated: max(w.lim.MaxInflated-w.inflated, 1),
	}
	a, err := w.lim.sandbox().run(w.ctx, "pdf", io.NewSectionReader(sp, 0, sp.size), b)
	if err != nil {
		var se *stopError
		if errors.As(err, &se) {
			return result{unscannable: "PDF text extraction " + se.reason}
		}
		return unscannablef("PDF text extraction failed: %s", shortErr(err))
	}
	w.inflated += a.inflated
	switch a.status {
	case statusEncrypted:
		att.Encrypted = true
		return result{unscannable: "encrypted PDF"}
	case statusLimit:
		return result{unscannable: workerReason(a.payload)}
	case statusError:
		if hasEncryptDict(sp) {
			att.Encrypted = true
			return result{unscannable: "encrypted PDF"}
		}
		return unscannablef("unreadable PDF: %s", workerReason(a.payload))
	}
	res := result{text: a.payload, contentType: "application/pdf", charset: "utf-8", truncated: a.truncated}
	if len(bytes.TrimSpace(a.payload)) == 0 {
		// scanned images or outlines only: nothing to inspect
		res.unscannable = "PDF has no extractable text"
	}
	return res
}

// workerReason is a reason sent by a worker, which parsed hostile input
// and is trusted no further than a short line of valid UTF-8.
func workerReason(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b[:min(len(b), 200)]), "?"))
	return strings.TrimSpace(s)
}

// pdfWork runs in the worker: every page's text, after checking that the
// streams the text comes from (page contents, fonts' ToUnicode maps) do not
// inflate beyond the ratio and size limits, as zip entries are checked.
func pdfWork(data []byte, b budget) answer {
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) {
			return answer{status: statusEncrypted}
		}
		return answer{status: statusError, payload: []byte(shortErr(err))}
	}
	g := &streamGuard{b: b, fileSize: int64(len(data))}
	var text strings.Builder
	n := r.NumPage()
	for i := 1; i <= n; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		if reason := g.page(p); reason != "" {
			return answer{status: statusLimit, inflated: g.inflated, payload: []byte(reason)}
		}
		s, err := p.GetPlainText(nil)
		if err != nil {
			return answer{status: statusError, inflated: g.inflated, payload: []byte(shortErr(err))}
		}
		text.WriteString(s)
		text.WriteByte('\n')
		if int64(text.Len()) > b.maxText {
			t, _ := capText([]byte(text.String()), b.maxText)
			return answer{status: statusText, truncated: true, inflated: g.inflated, payload: t}
		}
	}
	return answer{status: statusText, inflated: g.inflated, payload: []byte(text.String())}
}

// streamGuard inflates a page's streams once, counting, before the library
// reads them without a limit.
type streamGuard struct {
	b        budget
	fileSize int64
	inflated int64
}

func (g *streamGuard) page(p pdf.Page) string {
	if reason := g.streams(p.V.Key("Contents")); reason != "" {
		return reason
	}
	fonts := p.Resources().Key("Font")
	for _, name := range fonts.Keys() {
		if reason := g.streams(fonts.Key(name).Key("ToUnicode")); reason != "" {
			return reason
		}
	}
	return ""
}

// streams checks a stream or an array of streams.
func (g *streamGuard) streams(v pdf.Value) string {
	switch v.Kind() {
	case pdf.Stream:
		return g.stream(v)
	case pdf.Array:
		for i := 0; i < v.Len() && i < 10000; i++ {
			if reason := g.stream(v.Index(i)); reason != "" {
				return reason
			}
		}
	}
	return ""
}

func (g *streamGuard) stream(v pdf.Value) (reason string) {
	if v.Kind() != pdf.Stream {
		return ""
	}
	compressed := min(max(v.Key("Length").Int64(), 0), g.fileSize)
	limit := compressed*g.b.ratio + 64<<10
	defer func() {
		// an unknown filter panics in the library: the text reader
		// reports it as an error on its own
		if recover() != nil {
			reason = ""
		}
	}()
	rc := v.Reader()
	defer rc.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(rc, min(limit, g.b.inflated-g.inflated)+1))
	g.inflated += n
	switch {
	case n > limit:
		return fmt.Sprintf("PDF bomb: a stream inflates beyond %d:1", g.b.ratio)
	case g.inflated > g.b.inflated:
		return fmt.Sprintf("inflated size over %d bytes", g.b.inflated)
	}
	return ""
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
