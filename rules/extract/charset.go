package extract

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

// charsetAliases covers labels Japanese mailers send that the standard
// indexes lack or map poorly. The x/text Japanese decoders follow WHATWG:
// Shift_JIS is Windows-31J (NEC and IBM extensions included) and the
// ISO-2022-JP decoder reads the CP50220 extensions, so the Microsoft
// variants map onto them. Read-only after init.
var charsetAliases = map[string]encoding.Encoding{
	"cp932":          japanese.ShiftJIS,
	"ms932":          japanese.ShiftJIS,
	"windows-31j":    japanese.ShiftJIS,
	"x-ms-cp932":     japanese.ShiftJIS,
	"x-sjis":         japanese.ShiftJIS,
	"sjis":           japanese.ShiftJIS,
	"shift-jis":      japanese.ShiftJIS,
	"ms_kanji":       japanese.ShiftJIS,
	"iso-2022-jp-ms": japanese.ISO2022JP,
	"cp50220":        japanese.ISO2022JP,
	"cp50221":        japanese.ISO2022JP,
	"cp50222":        japanese.ISO2022JP,
	"iso-2022-jp-1":  japanese.ISO2022JP,
	"iso-2022-jp-2":  japanese.ISO2022JP,
	"iso-2022-jp-3":  japanese.ISO2022JP,
	"csiso2022jp":    japanese.ISO2022JP,
	"eucjp":          japanese.EUCJP,
	"x-euc-jp":       japanese.EUCJP,
	"euc-jp-ms":      japanese.EUCJP,
	"cp51932":        japanese.EUCJP,
	"utf8":           unicode.UTF8,
}

func init() {
	// go-message resolves charsets for RFC 2047 words (mail.Header
	// address lists) through its own table; teach it the same aliases so
	// callers that parse addresses get the same tolerance.
	for name, enc := range charsetAliases {
		charset.RegisterEncoding(name, enc)
	}
}

// lookupCharset maps a MIME charset label to an encoding. It returns nil for
// labels that say nothing (empty, us-ascii treated as "maybe 8-bit",
// unknown-8bit) so that the caller detects instead.
func lookupCharset(label string) encoding.Encoding {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch l {
	case "", "unknown-8bit", "x-unknown", "unknown", "us-ascii", "ascii", "default", "charset":
		return nil
	}
	if e, ok := charsetAliases[l]; ok {
		return e
	}
	if e, err := htmlindex.Get(l); err == nil && e != nil {
		return e
	}
	if e, err := ianaindex.MIME.Encoding(l); err == nil && e != nil {
		return e
	}
	return nil
}

// encodingName names an encoding for Part.Charset.
func encodingName(e encoding.Encoding) string {
	if e == unicode.UTF8BOM {
		return "utf-8"
	}
	if n, err := htmlindex.Name(e); err == nil {
		return strings.ToLower(n)
	}
	if n, err := ianaindex.MIME.Name(e); err == nil {
		return strings.ToLower(n)
	}
	if s, ok := e.(fmt.Stringer); ok {
		n, _, _ := strings.Cut(s.String(), " (")
		return strings.ToLower(n)
	}
	return "unknown"
}

// decodeWith decodes b with e, returning the text and how many bytes were
// invalid in that encoding (replaced by U+FFFD).
func decodeWith(e encoding.Encoding, b []byte) ([]byte, int) {
	if e == nil || e == unicode.UTF8 {
		return toValidUTF8(b) // valid UTF-8 is returned without a copy
	}
	return decodeAll(e, b)
}

func toValidUTF8(b []byte) ([]byte, int) {
	if utf8.Valid(b) {
		return b, 0
	}
	bad := 0
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			bad++
			out = append(out, "\uFFFD"...)
			b = b[1:]
			continue
		}
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return out, bad
}

// detectSample bounds the bytes examined by charset detection.
const detectSample = 16 << 10

// detectCharset guesses the encoding of undeclared text. The order follows
// what works on short Japanese text: BOM, ISO-2022-JP escapes, UTF-16
// without BOM by its zero bytes, valid UTF-8, then a strict trial decode as
// Shift_JIS (CP932) and EUC-JP scored by invalid sequences, kana and kanji.
// Text neither Japanese encoding reads cleanly is taken as Windows-1252,
// which decodes every byte. (A statistical detector such as chardet guesses
// wrong on short Japanese strings and adds nothing after this order.)
func detectCharset(b []byte, cut bool) encoding.Encoding {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8BOM
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	s := b
	if len(s) > detectSample {
		s = s[:detectSample]
	}
	// ISO-2022-JP and ASCII-range UTF-16 are also valid UTF-8: look for
	// their marks (escape sequences, zero bytes) first.
	if bytes.Contains(s, []byte("\x1b$B")) || bytes.Contains(s, []byte("\x1b$@")) ||
		bytes.Contains(s, []byte("\x1b(J")) || bytes.Contains(s, []byte("\x1b(I")) {
		return japanese.ISO2022JP
	}
	if e := utf16ByZeros(s); e != nil {
		return e
	}
	if validUTF8Prefix(s, cut || len(s) < len(b)) {
		return unicode.UTF8
	}
	sj := scoreJapanese(japanese.ShiftJIS, s)
	eu := scoreJapanese(japanese.EUCJP, s)
	switch {
	case sj <= 0 && eu <= 0:
		return charmap.Windows1252
	case eu > sj:
		return japanese.EUCJP
	default:
		return japanese.ShiftJIS
	}
}

// validUTF8Prefix reports whether s is UTF-8, allowing a rune cut at the
// end when s is a prefix of longer input.
func validUTF8Prefix(s []byte, cut bool) bool {
	if utf8.Valid(s) {
		return true
	}
	if !cut {
		return false
	}
	for i := 1; i < utf8.UTFMax && i < len(s); i++ {
		if utf8.Valid(s[:len(s)-i]) {
			return true
		}
	}
	return false
}

// utf16ByZeros recognises BOM-less UTF-16 of mostly ASCII text: at least a
// quarter of the bytes are zero, nearly all on one parity.
func utf16ByZeros(s []byte) encoding.Encoding {
	if len(s) < 4 {
		return nil
	}
	var even, odd int
	for i, c := range s {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	n := len(s) / 2
	switch {
	case odd > n/2 && even < odd/16:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case even > n/2 && odd < even/16:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	return nil
}

// scoreJapanese decodes s with e and scores how Japanese it looks: kana and
// kanji count for, invalid sequences and half-width katakana (what EUC-JP
// looks like when read as Shift_JIS) count against.
func scoreJapanese(e encoding.Encoding, s []byte) int {
	// decoded only to be scored: into a scratch buffer
	bp := getScratch()
	out, bad := decodeAllInto((*bp)[:0], e, s)
	defer putScratch(bp, out)
	score := -20 * bad
	for len(out) > 0 {
		r, n := utf8.DecodeRune(out) // as ranging over a string, without the copy
		out = out[n:]
		switch {
		case r >= 0x3041 && r <= 0x30FF: // hiragana, katakana
			score += 2
		case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs
			score++
		case r >= 0xFF61 && r <= 0xFF9F: // half-width katakana
			score--
		case r >= 0xE000 && r <= 0xF8FF: // private use (user-defined area)
			score -= 5
		}
	}
	return score
}

// decodeText turns raw bytes into UTF-8. A declared charset is trusted when
// it decodes cleanly; otherwise, or when none is declared, the charset is
// detected. It returns the text, the charset used and a problem to record.
func decodeText(raw []byte, declared string) (text []byte, used string, problem string) {
	return decodeCut(raw, declared, false)
}

// decodeCut is decodeText for raw bytes that may end inside a character
// (cut at a size limit).
func decodeCut(raw []byte, declared string, cut bool) (text []byte, used string, problem string) {
	d := lookupCharset(declared)
	if d != nil {
		out, bad := decodeWith(d, raw)
		if bad == 0 {
			return out, encodingName(d), ""
		}
		det := detectCharset(raw, cut)
		if encodingName(det) != encodingName(d) {
			if out2, bad2 := decodeWith(det, raw); bad2 < bad {
				return out2, encodingName(det), "declared charset " + declared + " does not match content; read as " + encodingName(det)
			}
		}
		return out, encodingName(d), "invalid " + declared + " sequences replaced"
	}
	det := detectCharset(raw, cut)
	out, bad := decodeWith(det, raw)
	if declared != "" && !isASCIILabel(declared) && !isNoCharset(declared) {
		problem = "unknown charset " + declared + "; detected " + encodingName(det)
	} else if bad > 0 {
		problem = "invalid " + encodingName(det) + " sequences replaced"
	}
	return out, encodingName(det), problem
}

func isASCIILabel(l string) bool {
	l = strings.ToLower(strings.TrimSpace(l))
	return l == "us-ascii" || l == "ascii"
}

func isNoCharset(l string) bool {
	l = strings.ToLower(strings.TrimSpace(l))
	return l == "unknown-8bit" || l == "x-unknown" || l == "unknown" || l == "default"
}
