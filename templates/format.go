package templates

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/sendguard/sendguard/templates/i18n"
)

// OneLine replaces control characters (CR, LF, tabs, NUL, ...) with spaces
// so that untrusted text cannot break a header line or a text layout.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// FormatTime writes t in loc for lang, in the catalog's date format.
func FormatTime(lang string, t time.Time, loc *time.Location) string {
	return i18n.MustLoad().FormatTime(lang, t, loc)
}

// FormatSize writes a byte count for people.
func FormatSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}

// MaskPreview is the first max characters of a message's text for the
// confirm page, with what could be personal data hidden: every digit of a
// run of four or more (phone, card, My Number, account, postal code) and
// the local part of e-mail addresses. It errs on the side of hiding: the
// page proves the sender picked the right mail, not what it says.
func MaskPreview(text string, max int) string {
	text = strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n")
	r := []rune(text)
	cut := len(r) > max
	if cut {
		r = r[:max]
	}
	out := make([]rune, len(r))
	copy(out, r)
	// Digits: a run of digits with separators inside ("1234-5678 9012").
	for i := 0; i < len(r); {
		if !isDigit(r[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(r) && (isDigit(r[j]) || (j+1 < len(r) && isDigit(r[j+1]) && strings.ContainsRune("-‐ー－ .", r[j]))) {
			if isDigit(r[j]) {
				digits++
			}
			j++
		}
		if digits >= 4 {
			for k := i; k < j; k++ {
				if isDigit(out[k]) {
					out[k] = '*'
				}
			}
		}
		i = j
	}
	// E-mail local parts.
	for i, c := range r {
		if c != '@' {
			continue
		}
		for k := i - 1; k >= 0 && !unicode.IsSpace(r[k]) && !strings.ContainsRune("<>(),;:\"'「」（）", r[k]); k-- {
			out[k] = '*'
		}
	}
	s := OneLinePreserveBreaks(string(out))
	if cut {
		s += "…"
	}
	return s
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// OneLinePreserveBreaks is OneLine that keeps line feeds (a body preview
// has lines; control characters still go).
func OneLinePreserveBreaks(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
