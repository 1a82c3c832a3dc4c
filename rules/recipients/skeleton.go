package recipients

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// confusables maps single characters that render like a Latin letter or digit
// in common mail fonts to that letter. Upper-case I is folded to l because
// the two are indistinguishable in sans-serif fonts; digits fold to the
// letters they pose as.
var confusables = map[rune]rune{
	'I': 'l', '1': 'l', '|': 'l', '0': 'o',
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j',
	'к': 'k', 'ӏ': 'l', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ɡ': 'g', 'ү': 'y',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p',
	'С': 'c', 'Т': 't', 'Х': 'x', 'Ѕ': 's', 'І': 'l', 'Ј': 'j', 'Ԁ': 'd',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w',
	'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'l', 'Κ': 'k', 'Μ': 'm',
	'Ν': 'n', 'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x',
}

// glyphPairs are letter sequences that render like one letter.
var glyphPairs = []struct{ from, to string }{
	{"rn", "m"}, {"vv", "w"}, {"cl", "d"},
}

// skeleton folds a domain label to the letters a reader would see: NFKC
// (full-width forms), confusable characters, then glyph pairs. It also
// returns a short description of what was folded, for the look-alike reason.
// Hyphens are kept; callers strip them where hyphens do not matter.
func skeleton(label string) (string, []string) {
	var notes []string
	note := func(s string) {
		for _, n := range notes {
			if n == s {
				return
			}
		}
		notes = append(notes, s)
	}
	nfkc := norm.NFKC.String(label)
	if nfkc != label {
		note("full-width")
	}
	var b strings.Builder
	b.Grow(len(nfkc))
	for _, r := range nfkc {
		if to, ok := confusables[r]; ok {
			switch {
			case r < 0x80:
				note(string(r) + "/" + string(to))
			case unicode.Is(unicode.Cyrillic, r):
				note("Cyrillic " + string(r))
			case unicode.Is(unicode.Greek, r):
				note("Greek " + string(r))
			default:
				note(string(r) + "/" + string(to))
			}
			r = to
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := b.String()
	for _, p := range glyphPairs {
		if strings.Contains(s, p.from) {
			s = strings.ReplaceAll(s, p.from, p.to)
			note(p.from + "/" + p.to)
		}
	}
	return s, notes
}
