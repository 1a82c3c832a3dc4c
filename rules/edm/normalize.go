package edm

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind says how a field's values are normalised and found in text.
type Kind uint8

const (
	// KindText is a name, a kana reading, an id or an e-mail address:
	// NFKC, kana folded to hiragana, white space removed, lower-cased.
	KindText Kind = iota
	// KindPhone keeps digits only.
	KindPhone
)

// KindOf is the kind of a field by its name: phone-like names are phones,
// everything else is text.
func KindOf(field string) Kind {
	f := strings.ToLower(field)
	for _, p := range []string{"phone", "tel", "mobile", "fax"} {
		if strings.Contains(f, p) {
			return KindPhone
		}
	}
	return KindText
}

// Phone digit counts accepted as a phone value: Japanese numbers have 10 or
// 11 digits, international forms a few more.
const (
	minPhoneDigits = 9
	maxPhoneDigits = 15
)

// Normalize returns the canonical form of v for its kind, or "" when v holds
// nothing matchable.
func Normalize(k Kind, v string) string {
	if k == KindPhone {
		return normPhone(v)
	}
	return normText(v)
}

func normText(v string) string {
	v = norm.NFKC.String(v)
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 0x30A1 && r <= 0x30F6: // katakana → hiragana
			r -= 0x60
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r >= 0x80:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normPhone keeps the digits of v; v must hold nothing but digits and phone
// punctuation, and 9–15 digits.
func normPhone(v string) string {
	v = norm.NFKC.String(v)
	d := make([]byte, 0, 16)
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			if len(d) == maxPhoneDigits {
				return ""
			}
			d = append(d, byte(r))
		case isPhonePunct(r):
		default:
			return ""
		}
	}
	d = domestic(d, strings.HasPrefix(strings.TrimLeft(v, " ("), "+"))
	if len(d) < minPhoneDigits {
		return ""
	}
	return string(d)
}

// domestic writes a Japanese number given in international form
// (+81 90-1234-5678) as dialled at home (090-1234-5678).
func domestic(d []byte, plus bool) []byte {
	if plus && len(d) > 2 && d[0] == '8' && d[1] == '1' {
		d[1] = '0'
		return d[1:]
	}
	return d
}

func isPhonePunct(r rune) bool {
	switch r {
	case '-', '(', ')', '+', ' ', '.', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\u30fc':
		return true
	}
	return false
}
