package recipients

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
)

// japaneseCharsets maps the labels Japanese mailers put in encoded words to
// decoders; several (CP932, ISO-2022-JP-MS, CP50220) are not WHATWG labels.
var japaneseCharsets = map[string]encoding.Encoding{
	"iso-2022-jp":    japanese.ISO2022JP,
	"iso-2022-jp-ms": japanese.ISO2022JP,
	"iso-2022-jp-1":  japanese.ISO2022JP,
	"iso-2022-jp-3":  japanese.ISO2022JP,
	"cp50220":        japanese.ISO2022JP,
	"cp50221":        japanese.ISO2022JP,
	"cp50222":        japanese.ISO2022JP,
	"csiso2022jp":    japanese.ISO2022JP,
	"shift_jis":      japanese.ShiftJIS,
	"shift-jis":      japanese.ShiftJIS,
	"sjis":           japanese.ShiftJIS,
	"x-sjis":         japanese.ShiftJIS,
	"cp932":          japanese.ShiftJIS,
	"ms932":          japanese.ShiftJIS,
	"windows-31j":    japanese.ShiftJIS,
	"euc-jp":         japanese.EUCJP,
	"x-euc-jp":       japanese.EUCJP,
	"eucjp":          japanese.EUCJP,
}

func lookupCharset(name string) (encoding.Encoding, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if e, ok := japaneseCharsets[name]; ok {
		return e, nil
	}
	e, err := htmlindex.Get(name)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", name, err)
	}
	return e, nil
}

// charsetReader decodes one encoded word. Words are short, so decoding in
// one call and returning a bytes.Reader (which mime copies without a buffer)
// is far cheaper than a streaming transform.Reader.
func charsetReader(name string, r io.Reader) (io.Reader, error) {
	e, err := lookupCharset(name)
	if err != nil {
		return nil, err
	}
	in, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read encoded word: %w", err)
	}
	out, err := e.NewDecoder().Bytes(in)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return bytes.NewReader(out), nil
}

// wordDecoder is stateless apart from its CharsetReader, so one value can be
// shared by concurrent parsers.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeName turns a display name as found in a header into text: encoded
// words left inside quotes by some Japanese mailers are decoded, and raw
// 8-bit Shift_JIS or EUC-JP is converted when the text is not UTF-8.
func decodeName(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	if !utf8.ValidString(s) {
		s = decode8bit(s)
	}
	return s
}

// decode8bit converts raw 8-bit header text that is not UTF-8. Shift_JIS is
// tried first (the usual culprit), then EUC-JP; if neither decodes cleanly
// the invalid bytes become U+FFFD.
func decode8bit(s string) string {
	for _, e := range []encoding.Encoding{japanese.ShiftJIS, japanese.EUCJP} {
		d, err := e.NewDecoder().String(s)
		if err == nil && utf8.ValidString(d) && !strings.ContainsRune(d, utf8.RuneError) {
			return d
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// decodeRawISO2022JP converts a header value written in raw ISO-2022-JP (as
// old Japanese mailers did, without encoded words) to UTF-8. It must run
// before splitting: the escape sequences contain '(' and '$'.
func decodeRawISO2022JP(s string) string {
	if !strings.Contains(s, "\x1b$") {
		return s
	}
	d, err := japanese.ISO2022JP.NewDecoder().String(s)
	if err != nil {
		return s
	}
	return d
}
