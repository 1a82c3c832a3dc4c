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
	prefix string
	off    int
	typ    string
}{
	{"PK\x03\x04", 0, "application/zip"},
	{"%PDF-", 0, "application/pdf"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"},
	{"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed"},
	{"Rar!\x1a\x07", 0, "application/vnd.rar"},
	{"\x1f\x8b\x08", 0, "application/gzip"},
	{"\xfd7zXZ\x00", 0, "application/x-xz"},
	{"BZh", 0, "application/x-bzip2"}, // and a digit, then the block magic: see Type
	{"-lh", 2, "application/x-lzh-compressed"},
}

// Type returns the media type of the file head begins, or "" when it
// begins as none of them.
func Type(head []byte) string {
	for _, m := range magics {
		if len(head) < m.off || !bytes.HasPrefix(head[m.off:], []byte(m.prefix)) {
			continue
		}
		switch m.typ {
		case "application/x-bzip2":
			// "BZh" starts words too: the level digit and the block
			// magic (the digits of pi) must follow.
			if len(head) < 10 || head[3] < '1' || head[3] > '9' || string(head[4:10]) != "\x31\x41\x59\x26\x53\x59" {
				continue
			}
		case "application/x-lzh-compressed":
			// "-lh5-" and kin at offset 2, after the header size and
			// checksum bytes.
			if len(head) < 7 || head[6] != '-' {
				continue
			}
		}
		return m.typ
	}
	return ""
}
