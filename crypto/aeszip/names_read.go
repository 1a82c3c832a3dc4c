package aeszip

import (
	"archive/zip"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// Name returns the Unicode name of a zip entry as its creator meant it:
// the Info-ZIP Unicode Path extra field when it matches the header name,
// else the header name if it is flagged or valid UTF-8, else the header name
// decoded as CP932 (what Japanese Windows writes). Undecodable bytes become
// U+FFFD. The name is not sanitised.
func Name(f *zip.File) string {
	if u, ok := unicodePathFromExtra(f.Extra, f.Name); ok {
		return u
	}
	if f.Flags&(1<<11) != 0 || utf8.ValidString(f.Name) {
		return strings.ToValidUTF8(f.Name, "\uFFFD")
	}
	if s, err := japanese.ShiftJIS.NewDecoder().String(f.Name); err == nil {
		return s
	}
	return strings.ToValidUTF8(f.Name, "\uFFFD")
}

func unicodePathFromExtra(extra []byte, headerName string) (string, bool) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return "", false
		}
		if id == extraUnicodePath && size >= 5 && extra[0] == 1 {
			name := string(extra[5:size])
			if binary.LittleEndian.Uint32(extra[1:]) == crc32.ChecksumIEEE([]byte(headerName)) && utf8.ValidString(name) {
				return name, true
			}
			return "", false
		}
		extra = extra[size:]
	}
	return "", false
}
