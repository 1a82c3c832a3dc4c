// Package filemagic recognises, by their first bytes, the files that a
// part declared as text may really be: documents the analysis reads
// (zip and the Office Open XML and OpenDocument formats built on it, PDF,
// OLE compound files) and archives it cannot read, which the policy holds
// as unscannable. The analysis (rules/extract) reads such a part as a
// file and the rewrite zips it, so both must recognise the same heads.
package filemagic

import "bytes"

// HeadLen is how many bytes Type needs.
const HeadLen = 16

var magics = []struct {
	off    int
	prefix string
	typ    string
	more   func(head []byte) bool // what must follow the prefix, if anything
}{
	{0, "PK\x03\x04", "application/zip", nil},
	{0, "%PDF-", "application/pdf", nil},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", nil},
	{0, "7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", nil},
	{0, "Rar!\x1a\x07", "application/vnd.rar", nil},
	{0, "\x1f\x8b\x08", "application/gzip", nil},
	{0, "\xfd7zXZ\x00", "application/x-xz", nil},
	// "BZh" starts words too: the level digit and the block magic (the
	// digits of pi) must follow.
	{0, "BZh", "application/x-bzip2", func(h []byte) bool {
		return len(h) >= 10 && h[3] >= '1' && h[3] <= '9' && string(h[4:10]) == "\x31\x41\x59\x26\x53\x59"
	}},
	// "-lh5-" and kin after the header's size and checksum bytes.
	{2, "-lh", "application/x-lzh-compressed", func(h []byte) bool { return len(h) >= 7 && h[6] == '-' }},
}

// Type returns the media type of the file head begins, or "" when it
// begins as none of them.
func Type(head []byte) string {
	for _, m := range magics {
		if len(head) >= m.off && bytes.HasPrefix(head[m.off:], []byte(m.prefix)) && (m.more == nil || m.more(head)) {
			return m.typ
		}
	}
	return ""
}
