package rewrite

import (
	"github.com/sendguard/sendguard/internal/mimeparams"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/japanese"
)

// parseParams splits a Content-Type or Content-Disposition value into its
// lower-cased token and UTF-8 parameters (see internal/mimeparams); raw
// 8-bit bytes that are not UTF-8 are read as Shift_JIS.
func parseParams(v string) (string, map[string]string) {
	return mimeparams.Parse(v, paramDecoder{})
}

// paramDecoder decodes parameter bytes with go-message's charsets.
type paramDecoder struct{}

func (paramDecoder) Bytes(raw []byte, cs string) string { return decodeCharset(raw, cs) }
func (paramDecoder) Words(v string) string              { return decodeWords(v) }

// wordDecoder decodes RFC 2047 words in every charset go-message knows.
func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charset.Reader}
}

// decodeWords decodes RFC 2047 words and raw 8-bit bytes in a header value.
func decodeWords(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder().DecodeHeader(v); err == nil {
			v = d
		}
	}
	return decodeCharset([]byte(v), "")
}

// decodeCharset turns bytes labelled cs into UTF-8; unlabelled bytes that
// are not UTF-8 are read as Shift_JIS (CP932), the usual raw 8-bit case.
func decodeCharset(b []byte, cs string) string {
	if cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if r, err := charset.Reader(cs, strings.NewReader(string(b))); err == nil {
			if d, err := io.ReadAll(r); err == nil {
				return string(d)
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	if d, err := japanese.ShiftJIS.NewDecoder().Bytes(b); err == nil {
		return string(d)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
