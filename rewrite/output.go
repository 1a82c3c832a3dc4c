package rewrite

import (
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

	"github.com/sendguard/sendguard/internal/bufpool"
	"github.com/sendguard/sendguard/internal/spillbuf"
)

// trailingPart is a part written after the kept ones (the zip): its
// header, then its body in base64.
type trailingPart struct {
	header string // fields, each ending in the message's line ending
	body   *spillbuf.Buffer
}

// write assembles the rewritten message: the top header, the note, the
// kept parts, the optional trailing part and the close delimiter with the
// epilogue. It only reads the rewriter's state (the kept parts through a
// section reader), so it may run many times, concurrently.
// outBuf keeps its first error, which Flush or the next copy reports, so
// single writes are not checked.
func (rw *rewriter) write(dst io.Writer, note string, last *trailingPart) error {
	eol := rw.top.eol
	bw := getOutBuf(dst)
	defer bw.put()
	if err := rw.writeTopHeader(bw); err != nil {
		return err
	}
	d := "--" + rw.boundary
	if len(rw.preamble) > 0 {
		bw.Write(rw.preamble)
		bw.WriteString(eol)
	}
	bw.WriteString(d + eol)
	bw.WriteString("Content-Type: text/plain; charset=UTF-8" + eol +
		"Content-Transfer-Encoding: base64" + eol + eol)
	enc := &b64Lines{o: bw, eol: eol}
	enc.WriteString(note)
	if err := enc.Close(); err != nil {
		return encodeErr(err)
	}
	if rw.wrap && rw.kept.Size() > 0 {
		bw.WriteString(eol + d + eol) // the original alternative/related body
	}
	kept, err := rw.kept.Section()
	if err != nil {
		return err
	}
	if _, err := bw.ReadFrom(kept); err != nil {
		return fmt.Errorf("rewrite: copy kept parts: %w", err)
	}
	if last != nil {
		bw.WriteString(eol + d + eol)
		bw.WriteString(last.header + eol)
		// The zip is usually in memory: CopyTo hands it over whole,
		// encoded from where it lies.
		buf := bufpool.Get()
		enc := &b64Lines{o: bw, eol: eol}
		err := last.body.CopyTo(enc, *buf)
		bufpool.Put(buf)
		if err == nil {
			err = enc.Close()
		}
		if err != nil {
			return encodeErr(err)
		}
	}
	closeRest := rw.closeRest
	if rw.wrap {
		closeRest = []byte(eol)
	}
	bw.WriteString(eol + d + "--")
	bw.Write(closeRest)
	bw.Write(rw.epilogue)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("rewrite: write message: %w", err)
	}
	return nil
}

// writeTopHeader copies the top header; a single-part message loses its
// Content-* fields (to the zip or the store) and becomes multipart/mixed.
func (rw *rewriter) writeTopHeader(bw *outBuf) error {
	eol := rw.top.eol
	if !rw.wrap && !rw.retype {
		bw.Write(rw.top.bytes())
		return nil
	}
	if !rw.wrap {
		ct := "Content-Type: " + mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": rw.boundary}) + eol
		for _, f := range rw.top.fields {
			if strings.EqualFold(f.name, "Content-Type") {
				bw.WriteString(ct)
				ct = ""
				continue
			}
			bw.Write(f.raw)
		}
		_, err := bw.Write(rw.top.end)
		return err
	}
	ct := `Content-Type: multipart/mixed; boundary="` + rw.boundary + `"` + eol
	hasVersion := false
	for _, f := range rw.top.fields {
		if strings.EqualFold(f.name, "MIME-Version") {
			hasVersion = true
		}
	}
	if !hasVersion {
		ct = "MIME-Version: 1.0" + eol + ct
	}
	for _, f := range rw.top.fields {
		if isContentField(f.name) {
			if ct != "" {
				bw.WriteString(ct)
				ct = ""
			}
			continue
		}
		bw.Write(f.raw)
	}
	bw.WriteString(ct) // no Content-* field at all
	end := string(rw.top.end)
	if end == "" {
		end = eol
	}
	_, err := bw.WriteString(end)
	return err
}

// zipPartHeader names the zip three ways: RFC 2231 (filename*), a plain
// ASCII fallback (filename) and RFC 2047 in the Content-Type name, which
// older Japanese mailers read.
func zipPartHeader(name, eol string) string {
	return "Content-Type: application/zip;" + eol +
		` name="` + mime.BEncoding.Encode("UTF-8", name) + `"` + eol +
		"Content-Disposition: attachment;" + eol +
		` filename="` + asciiFallback(name) + `";` + eol +
		" filename*=UTF-8''" + rfc2231Escape(name) + eol +
		"Content-Transfer-Encoding: base64" + eol
}

// asciiFallback keeps the ASCII letters of name, for readers without
// RFC 2231 support.
func asciiFallback(name string) string {
	stem := strings.TrimSuffix(name, ".zip")
	var b strings.Builder
	for _, r := range stem {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.()[] ", r):
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), " ._-")
	if strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) < 0 {
		s = "attachments"
	}
	return s + ".zip"
}

// rfc2231Escape percent-encodes everything outside RFC 2231 attribute-char.
func rfc2231Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(strings.ToUpper(url.PathEscape(string([]byte{c}))))
	}
	return b.String()
}
