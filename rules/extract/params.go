package extract

import (
	"bytes"
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
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
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

// wordDecoder resolves RFC 2047 charsets with the package's aliases. It
// holds no state and is safe for concurrent use.
var wordDecoder = &mime.WordDecoder{CharsetReader: wordReader}

// wordReader decodes one encoded word at once. mime.WordDecoder copies
// what charsetReader returns with io.Copy: a streaming transform reader
// cost its two 4 KiB buffers and io.Copy's 32 KiB one per word, for a
// few bytes of Subject or file name. The result is the decoder's
// (transform.Bytes and a transform.Reader run the same transformer), and
// an error fails the word as it did.
func wordReader(label string, input io.Reader) (io.Reader, error) {
	if isASCIILabel(label) {
		return input, nil
	}
	e := lookupCharset(label)
	if e == nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	raw, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	out, err := e.NewDecoder().Bytes(raw)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(out), nil // a WriterTo: io.Copy takes no buffer
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
