package extract

import (
	"fmt"
	"github.com/sendguard/sendguard/internal/mimeparams"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// parseParams splits a Content-Type or Content-Disposition value into its
// lower-cased token and UTF-8 parameters (see internal/mimeparams), with
// this package's charset table and detection.
func parseParams(v string) (token string, params map[string]string) {
	return mimeparams.Parse(v, paramDecoder{})
}

type paramDecoder struct{}

func (paramDecoder) Bytes(raw []byte, cs string) string { return decodeParamBytes(raw, cs) }
func (paramDecoder) Words(v string) string              { return decodeWordsOrRaw(v) }

func decodeParamBytes(raw []byte, cs string) string {
	if e := lookupCharset(cs); e != nil {
		out, _ := decodeWith(e, raw)
		return string(out)
	}
	out, _, _ := decodeText(raw, "")
	return string(out)
}

// decodeWordsOrRaw decodes RFC 2047 words (also the non-standard use inside
// quoted parameters) and raw 8-bit bytes in a header value.
func decodeWordsOrRaw(v string) string {
	if strings.Contains(v, "=?") {
		if d, err := newWordDecoder().DecodeHeader(v); err == nil {
			v = d
		}
	}
	// Raw 8-bit bytes (Shift_JIS from old mailers) are invalid UTF-8; raw
	// ISO-2022-JP is 7-bit and shows by its escape sequences.
	if !utf8.ValidString(v) || strings.Contains(v, "\x1b") {
		out, _, _ := decodeText([]byte(v), "")
		v = string(out)
	}
	return v
}

// newWordDecoder resolves RFC 2047 charsets with the package's aliases.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charsetReader}
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	if isASCIILabel(label) {
		return input, nil
	}
	e := lookupCharset(label)
	if e == nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	return e.NewDecoder().Reader(input), nil
}
