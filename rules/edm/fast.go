package edm

import "unicode/utf8"

// appendNorm appends Normalize(k, tok) to dst without allocating for the
// common scripts: ASCII, full-width ASCII, hiragana, katakana and unified
// kanji, which NFKC leaves alone (or maps to ASCII). Any other rune (half-
// width kana, combining marks, compatibility ideographs, ...) takes the
// full NFKC path, so that the result always equals Normalize's.
func appendNorm(dst []byte, k Kind, tok []byte) []byte {
	dst, _ = appendNormShape(dst, k, tok)
	return dst
}

// appendNormShape is appendNorm that also returns the shape of what it
// appended (shapeOf of it), found on the way without a second pass.
func appendNormShape(dst []byte, k Kind, tok []byte) ([]byte, uint8) {
	return appendNormCapped(dst, k, tok, nil)
}

// appendNormCapped is appendNormShape that gives up on a text token (and
// appends nothing) as soon as what it has appended is longer than caps
// allows for its shape: a value of a wider shape may still follow, but
// none of the index is that long (the first cells of an address, a
// sentence). The check lags one rune behind, as the last rune appended may
// still compose with a combining mark that follows (e + U+0301 → é, か +
// U+3099 → が) and change class; the runes before it are final. nil caps:
// never give up.
func appendNormCapped(dst []byte, k Kind, tok []byte, caps *shapeCaps) ([]byte, uint8) {
	start := len(dst)
	digits := 0
	var shape uint8
	stable, stableShape := 0, uint8(0) // length and shape before the last rune
	for i := 0; i < len(tok); {
		if caps != nil && k == KindText {
			if stable > int(caps[stableShape]) {
				return dst[:start], 0
			}
			stable, stableShape = len(dst)-start, shape
		}
		if k == KindText && tok[i] < utf8.RuneSelf {
			// a run of ASCII (e-mail addresses, ids, numbers), by table
			for ; i < len(tok) && tok[i] < utf8.RuneSelf; i++ {
				if a := asciiText[tok[i]]; a.shape != 0 {
					stable, stableShape = len(dst)-start, shape
					dst = append(dst, a.b)
					shape |= a.shape
				}
			}
			continue
		}
		if k == KindText && i+2 < len(tok) && isKanjiOrHiragana(tok[i], tok[i+1], tok[i+2]) {
			dst = append(dst, tok[i:i+3]...) // unchanged by NFKC and folding
			if tok[i] >= 0xE4 {
				shape |= shapeHan
			} else {
				shape |= shapeHira
			}
			i += 3
			continue
		}
		r, n := rune(tok[i]), 1
		if r >= utf8.RuneSelf {
			r, n = decodeRune(tok[i:])
			switch {
			case r >= 0xFF01 && r <= 0xFF5E:
				r -= 0xFEE0
			case r == 0x3000:
				r = ' '
			case k == KindPhone && (r >= 0x3041 && r <= 0x30FA || r >= 0x4E00 && r <= 0x9FFF):
				// Kana and kanji never fold to a digit or phone
				// punctuation: not a phone, without the NFKC detour a
				// name or address cell would otherwise take.
				return dst[:start], 0
			case k == KindText && (r >= 0x3041 && r <= 0x3096 || r == 0x30FC || r >= 0x4E00 && r <= 0x9FFF):
			case k == KindText && r >= 0x30A1 && r <= 0x30FA:
				if r <= 0x30F6 {
					r -= 0x60
				}
			default:
				dst = append(dst[:start], Normalize(k, string(tok))...)
				return dst, shapeOf(dst[start:])
			}
		}
		i += n
		if k == KindPhone {
			switch {
			case r >= '0' && r <= '9':
				if digits++; digits > maxPhoneDigits {
					return dst[:start], 0
				}
				dst = append(dst, byte(r))
			case isPhonePunct(r):
			default:
				return dst[:start], 0
			}
			continue
		}
		switch {
		case r == ' ', r >= '\t' && r <= '\r':
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
			shape |= shapeLower
		case r >= 'a' && r <= 'z':
			shape |= shapeLower
		case r >= '0' && r <= '9':
			shape |= shapeDigit
		case r == '@':
			shape |= shapeAt
		case r < utf8.RuneSelf:
			shape |= shapePunct
		case r >= 0x3041 && r <= 0x30FA || r == 0x30FC:
			shape |= shapeHira
		case r >= 0x4E00 && r <= 0x9FFF:
			shape |= shapeHan
		default:
			shape |= shapeOther
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
			return dst[:start], 0
		}
		shape = shapeDigit
	}
	return dst, shape
}

// isKanjiOrHiragana reports whether the UTF-8 sequence b0 b1 b2 is a
// unified kanji (U+4E00–9FFF: E4 B8 80 to E9 BF BF) or a hiragana
// (U+3041–3096: E3 81 81 to E3 82 96), which normalisation copies as is.
func isKanjiOrHiragana(b0, b1, b2 byte) bool {
	if b2&0xC0 != 0x80 || b1&0xC0 != 0x80 {
		return false
	}
	switch {
	case b0 >= 0xE5 && b0 <= 0xE9:
		return true
	case b0 == 0xE4:
		return b1 >= 0xB8
	case b0 == 0xE3:
		return b1 == 0x81 && b2 >= 0x81 || b1 == 0x82 && b2 <= 0x96
	}
	return false
}

// asciiText is the text normalisation of each ASCII byte and its shape;
// shape 0: dropped (white space).
var asciiText = func() (t [utf8.RuneSelf]struct{ b, shape uint8 }) {
	for c := range utf8.RuneSelf {
		b, sh := byte(c), uint8(shapePunct)
		switch {
		case c == ' ', c >= '\t' && c <= '\r':
			sh = 0
		case c >= 'A' && c <= 'Z':
			b, sh = byte(c+'a'-'A'), shapeLower
		case c >= 'a' && c <= 'z':
			sh = shapeLower
		case c >= '0' && c <= '9':
			sh = shapeDigit
		case c == '@':
			sh = shapeAt
		}
		t[c].b, t[c].shape = b, sh
	}
	return t
}()
