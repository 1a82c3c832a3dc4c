package rewrite

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"

	"github.com/sendguard/sendguard/internal/mimeparams"
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
	return &mime.WordDecoder{CharsetReader: wordCharsetReader}
}

// wordCharsetReader is charset.Reader for the few bytes of one encoded
// word: it decodes them at once and returns a *bytes.Reader, whose
// WriteTo mime's io.Copy uses, instead of a streaming decoder (two 4 KiB
// buffers) copied through a fresh 32 KiB buffer per word.
func wordCharsetReader(cs string, in io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	d, err := charsetBytes(b, cs)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(d), nil
}

// charsetBytes converts b from charset cs to UTF-8 as charset.Reader
// does; the Japanese charsets of everyday mail skip its lookup and its
// reader's buffers.
func charsetBytes(b []byte, cs string) ([]byte, error) {
	var enc encoding.Encoding
	switch strings.ToLower(cs) {
	case "iso-2022-jp":
		enc = japanese.ISO2022JP
	case "shift_jis":
		enc = japanese.ShiftJIS
	case "euc-jp":
		enc = japanese.EUCJP
	default:
		r, err := charset.Reader(cs, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	return enc.NewDecoder().Bytes(b)
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
		if d, err := charsetBytes(b, cs); err == nil {
			return string(d)
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
