package rewrite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/internal/b64"
)

// addFile decodes one attachment's body, names it and hands it to the
// sink, recording its size.
func (rw *rewriter) addFile(h *rawHeader, p partInfo, body io.Reader) error {
	idx := len(rw.files) + 1
	dec, err := decodeBody(h.get("Content-Transfer-Encoding"), body)
	if err != nil {
		return fmt.Errorf("attachment %d: %w", idx, err)
	}
	if b, ok := dec.(*b64.Reader); ok {
		defer b.Release() // put reads the attachment to its end before returning
	}
	name := p.filename
	if p.isMessage {
		bdec := bufio.NewReaderSize(dec, 16<<10)
		dec = bdec
		if name == "" {
			name = peekSubject(bdec)
		}
		if name == "" {
			name = "message"
		}
		if !strings.HasSuffix(strings.ToLower(name), ".eml") {
			name += ".eml"
		}
	}
	if name == "" {
		name = fmt.Sprintf("attachment%d%s", idx, extensionFor(p.contentType))
	}
	src := &malformedOnError{r: dec}
	used, err := rw.sink.put(name, p.contentType, src)
	if err != nil {
		return fmt.Errorf("attachment %d: %w", idx, err)
	}
	rw.files = append(rw.files, ZippedFile{
		Name:        used,
		ContentType: p.contentType,
		Size:        src.n,
	})
	return nil
}

// malformedOnError marks read errors (corrupt base64, a truncated
// multipart) as ErrMalformed, apart from archive write errors, and counts
// the bytes read.
type malformedOnError struct {
	r io.Reader
	n int64
}

func (m *malformedOnError) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, ErrMalformed) {
		err = fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return n, err
}

// decodeBody undoes a Content-Transfer-Encoding (RFC 2045 §6).
func decodeBody(cte string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return r, nil
	case "base64":
		return b64.NewReader(r), nil
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil
	}
	return nil, ErrUnknownEncoding
}

// peekSubject reads the Subject of an attached message from its first
// 16 KiB without consuming them.
func peekSubject(br *bufio.Reader) string {
	b, _ := br.Peek(16 << 10)
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(string(b))))
	if err != nil && h.Len() == 0 {
		return ""
	}
	return decodeWords(h.Get("Subject"))
}

// extensionFor names a file that came without a name.
func extensionFor(ct string) string {
	switch ct {
	case "application/pdf":
		return ".pdf"
	case "application/zip", "application/x-zip-compressed":
		return ".zip"
	case "application/x-7z-compressed":
		return ".7z"
	case "application/vnd.rar":
		return ".rar"
	case "application/gzip":
		return ".gz"
	case "application/x-xz":
		return ".xz"
	case "application/x-bzip2":
		return ".bz2"
	case "application/x-lzh-compressed":
		return ".lzh"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "text/csv":
		return ".csv"
	case "text/html":
		return ".html"
	case "text/plain":
		return ".txt"
	}
	return ".bin"
}

// finishZip closes the archive and chooses its name: the file's own name
// for a single file, else the subject, else the first file's name.
func (e *encrypter) finishZip() error {
	e.zipClosed = true
	if err := e.zw.Close(); err != nil {
		return fmt.Errorf("rewrite: close zip: %w", err)
	}
	e.res.Files = e.rw.files
	e.res.KeptParts = e.rw.keptParts
	e.res.ZipSize = e.zipFile.Size()
	base := ""
	if len(e.res.Files) > 1 {
		base = e.rw.subject
	}
	if strings.TrimSpace(base) == "" {
		base = e.res.Files[0].Name
		if i := strings.LastIndexByte(base, '.'); i > 0 {
			base = base[:i]
		}
	}
	e.res.ZipName = zipName(base)
	return nil
}

// maxZipStem keeps the zip name and its encodings on short header lines.
const maxZipStem = 60

// zipName sanitises a stem (no path, no reserved characters) and adds .zip.
func zipName(stem string) string {
	stem = aeszip.SanitizeName(stem)
	if utf8.RuneCountInString(stem) > maxZipStem {
		r := []rune(stem)
		stem = strings.TrimRight(string(r[:maxZipStem]), " .")
	}
	if stem == "" {
		stem = "attachments"
	}
	return stem + ".zip"
}
