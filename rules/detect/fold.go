package detect

import "unicode/utf8"

// fold decodes the rune at b[i] (i < end) and maps the compatibility forms
// the detectors care about: full-width ASCII (U+FF01–FF5E) becomes ASCII,
// ideographic and no-break spaces become ' '. Dash variants are left for
// isDash so that 'ー' stays a letter outside numbers.
func fold(b []byte, i, end int) (rune, int) {
	c := b[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRune(b[i:end])
	return foldRune(r), n
}

// foldLast is fold for the rune ending at b[i], reading no further back than
// lo. It returns (-1, 0) at lo.
func foldLast(b []byte, lo, i int) (rune, int) {
	if i <= lo {
		return -1, 0
	}
	c := b[i-1]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeLastRune(b[lo:i])
	return foldRune(r), n
}

func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000, r == 0x00A0, r == 0x202F, r >= 0x2000 && r <= 0x200A:
		return ' '
	}
	return r
}

// isDash reports whether the folded rune r joins digit groups like a hyphen.
// The prolonged sound marks (ー, ｰ) count because Japanese input methods
// produce them between digits.
func isDash(r rune) bool {
	switch r {
	case '-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043,
		0x2212, 0x30FC, 0xFF70, 0xFE63, 0xFE58, 0x2796:
		return true
	}
	return false
}

// digitAt returns the ASCII digit for an ASCII or full-width digit at b[i]
// and its byte length, or n == 0.
func digitAt(b []byte, i, end int) (d byte, n int) {
	c := b[i]
	if c >= '0' && c <= '9' {
		return c, 1
	}
	if c == 0xEF && i+2 < end && b[i+1] == 0xBC && b[i+2] >= 0x90 && b[i+2] <= 0x99 {
		return '0' + b[i+2] - 0x90, 3
	}
	return 0, 0
}

func isASCIILetter(r rune) bool { return r|0x20 >= 'a' && r|0x20 <= 'z' }
func isASCIIDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isASCIIAlnum(r rune) bool  { return isASCIILetter(r) || isASCIIDigit(r) }

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 0x20
	}
	return c
}
