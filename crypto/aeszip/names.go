package aeszip

import (
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
)

const (
	// maxNameBytes keeps names under common 255-byte filesystem limits.
	maxNameBytes = 240
	// fallbackName replaces a name that sanitises to nothing.
	fallbackName     = "attachment"
	extraUnicodePath = 0x7075
)

// SanitizeName turns an attachment file name into a safe zip entry name:
// the last path component only (both / and \ separate), NFC, no control,
// bidirectional-override or other invisible format characters, no
// characters Windows forbids (<>:"|?*), no leading or trailing spaces or
// dots, not a Windows reserved device name (CON, NUL, COM1, ...),
// at most 240 bytes keeping the extension. Japanese and other letters are
// kept. A name that ends up empty becomes "attachment".
func SanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = norm.NFC.String(name)
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		case unicode.IsSpace(r) && r != '\u3000': // keep the ideographic space
			return ' '
		}
		return r
	}, name)
	name = strings.TrimLeft(name, " .") // a leading dot hides the file on Unix
	name = strings.TrimRight(name, " .")
	if name == "" {
		return fallbackName
	}
	if isReservedWindowsName(name) {
		name = "_" + name
	}
	return truncateName(name, maxNameBytes)
}

// isReservedWindowsName reports whether the part before the first dot is a
// DOS device name, which Windows refuses whatever the extension.
func isReservedWindowsName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		switch stem[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// truncateName cuts name to at most limit bytes on a rune boundary, keeping
// a short extension.
func truncateName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		ext = name[i:]
		name = name[:i]
	}
	keep := limit - len(ext)
	for keep > 0 && !utf8.RuneStart(name[keep]) {
		keep--
	}
	return strings.TrimRight(name[:keep], " .") + ext
}

// UniqueName returns name, or "stem (n).ext" for the first n ≥ 2 not yet in
// used, and records it in used. Names compare case-insensitively, as on
// Windows and macOS. Writer.Add names entries with SanitizeName then
// UniqueName; code that must name files as a zip would (download links)
// does the same.
func UniqueName(name string, used map[string]struct{}) string {
	candidate := name
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	for n := 2; ; n++ {
		key := strings.ToLower(candidate)
		if _, dup := used[key]; !dup {
			used[key] = struct{}{}
			return candidate
		}
		suffix := " (" + strconv.Itoa(n) + ")"
		candidate = truncateName(stem, maxNameBytes-len(suffix)-len(ext)) + suffix + ext
	}
}

// encodedName is how a name goes into the headers.
type encodedName struct {
	raw   string // header name bytes
	utf8  bool   // general-purpose bit 11
	extra []byte // Info-ZIP Unicode Path extra field, or nil
}

// encodeName encodes an already sanitised name for the given mode.
func encodeName(name string, mode NameEncoding) encodedName {
	if isASCII(name) {
		return encodedName{raw: name}
	}
	if mode == CP932 {
		if sjis, ok := toCP932(name); ok {
			return encodedName{raw: sjis, extra: unicodePathExtra(sjis, name)}
		}
	}
	return encodedName{raw: name, utf8: true}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toCP932 encodes s in Windows-31J. It refuses runes without a CP932 code
// (U+301C WAVE DASH, U+2212 MINUS SIGN, ...) and anything that does not
// decode back to s.
func toCP932(s string) (string, bool) {
	enc, err := japanese.ShiftJIS.NewEncoder().String(s)
	if err != nil {
		return "", false
	}
	back, err := japanese.ShiftJIS.NewDecoder().String(enc)
	if err != nil || back != s {
		return "", false
	}
	return enc, true
}

// unicodePathExtra builds the Info-ZIP Unicode Path extra field: version 1,
// CRC-32 of the header name bytes, UTF-8 name.
func unicodePathExtra(headerName, utf8Name string) []byte {
	b := make([]byte, 0, 4+5+len(utf8Name))
	b = binary.LittleEndian.AppendUint16(b, extraUnicodePath)
	b = binary.LittleEndian.AppendUint16(b, uint16(5+len(utf8Name)))
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte(headerName)))
	return append(b, utf8Name...)
}
