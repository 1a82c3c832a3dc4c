package filemagic

import "testing"

func TestType(t *testing.T) {
	for _, c := range []struct{ head, want string }{
		{"PK\x03\x04\x14\x00\x06\x00", "application/zip"},
		{"%PDF-1.7\n", "application/pdf"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "application/x-ole-storage"},
		{"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"},
		{"Rar!\x1a\x07\x01\x00", "application/vnd.rar"},
		{"\x1f\x8b\x08\x00\x00\x00", "application/gzip"},
		{"\xfd7zXZ\x00\x00\x04", "application/x-xz"},
		{"BZh91AY&SY\x00", "application/x-bzip2"},
		{"\x2a\x5c-lh5-\x10\x00", "application/x-lzh-compressed"},
		// text that only starts like one
		{"PK\r\nhello", ""},
		{"%PDF", ""},
		{"BZh is a word", ""},
		{"BZh9", ""},
		{"ab-lh5 x", ""},
		{"--lh", ""},
		{"Rar! what", ""},
		{"", ""},
		{"こんにちは", ""},
	} {
		if got := Type([]byte(c.head)); got != c.want {
			t.Errorf("%q: %q, want %q", c.head, got, c.want)
		}
	}
}
