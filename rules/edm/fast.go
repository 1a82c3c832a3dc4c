package edm

import "unicode/utf8"

// appendNorm appends Normalize(k, tok) to dst without allocating for the
// common scripts: ASCII, full-width ASCII, hiragana, katakana and unified
// kanji, which NFKC leaves alone (or maps to ASCII). Any other rune (half-
// width kana, combining marks, compatibility ideographs, ...) takes the
// full NFKC path, so that the result always equals Normalize's.
func appendNorm(dst []byte, k Kind, tok []byte) []byte {
	start := len(dst)
	digits := 0
	for i := 0; i < len(tok); {
		r, n := rune(tok[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(tok[i:])
			switch {
			case r >= 0xFF01 && r <= 0xFF5E:
				r -= 0xFEE0
			case r == 0x3000:
				r = ' '
			case k == KindText && (r >= 0x3041 && r <= 0x3096 || r == 0x30FC || r >= 0x4E00 && r <= 0x9FFF):
			case k == KindText && r >= 0x30A1 && r <= 0x30FA:
				if r <= 0x30F6 {
					r -= 0x60
				}
			default:
				return append(dst[:start], Normalize(k, string(tok))...)
			}
		}
		i += n
		if k == KindPhone {
			switch {
			case r >= '0' && r <= '9':
				if digits++; digits > maxPhoneDigits {
					return dst[:start]
				}
				dst = append(dst, byte(r))
			case isPhonePunct(r):
			default:
				return dst[:start]
			}
			continue
		}
		switch {
		case r == ' ', r >= '\t' && r <= '\r':
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		dst = utf8.AppendRune(dst, r)
	}
	if k == KindPhone {
		lead := tok
		for len(lead) > 0 && (lead[0] == ' ' || lead[0] == '(') {
			lead = lead[1:]
		}
		d := domestic(dst[start:], len(lead) > 0 && lead[0] == '+')
		dst = append(dst[:start], d...)
		if len(d) < minPhoneDigits {
			return dst[:start]
		}
	}
	return dst
}
