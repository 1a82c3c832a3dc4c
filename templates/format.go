package templates

import (
	"fmt"
	"strings"
	"time"
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

// FormatTime writes t in loc for lang.
func FormatTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if lang == "ja" {
		wd := [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()]
		return fmt.Sprintf("%d年%d月%d日(%s) %s", t.Year(), int(t.Month()), t.Day(), wd, t.Format("15:04 MST"))
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
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
