package extract

import (
	"bytes"
	"errors"
	"strings"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract/worker"
)

// pdfFile extracts the text of a PDF with github.com/dslipak/pdf in an
// extraction worker (sandbox.go; the worker side is package worker): the library cannot be interrupted and
// inflates streams without a limit, so it runs in a child process that the
// budget (Limits.PDFTimeout, PDFCPU, PDFMemory) ends for certain. A stopped
// or failed extraction is an unscannable part with a plain reason.
func (w *walker) pdfFile(att *rules.Attachment, sp *spilled) result {
	b := worker.Budget{
		Wall:     w.lim.PDFTimeout,
		CPU:      w.lim.PDFCPU,
		Memory:   w.lim.PDFMemory,
		MaxIn:    max(sp.size, 1),
		MaxText:  w.lim.MaxPartText,
		Ratio:    w.lim.MaxRatio,
		Inflated: max(w.lim.MaxInflated-w.inflated, 1),
	}
	a, err := w.lim.sandbox().run(w.ctx, "pdf", sp.reader(), b)
	if err != nil {
		var se *stopError
		if errors.As(err, &se) {
			return result{unscannable: "PDF text extraction " + se.reason}
		}
		return unscannablef("PDF text extraction failed: %s", shortErr(err))
	}
	w.inflated += a.Inflated
	switch a.Status {
	case statusEncrypted:
		att.Encrypted = true
		return result{unscannable: "encrypted PDF"}
	case statusLimit:
		return result{unscannable: workerReason(a.Payload)}
	case statusError:
		if hasEncryptDict(sp) {
			att.Encrypted = true
			return result{unscannable: "encrypted PDF"}
		}
		return unscannablef("unreadable PDF: %s", workerReason(a.Payload))
	}
	res := result{text: a.Payload, contentType: "application/pdf", charset: "utf-8", truncated: a.Truncated}
	if len(bytes.TrimSpace(a.Payload)) == 0 {
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
