package rewrite

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameBytes is aeszip's limit on entry names.
const maxNameBytes = 240

// uniqueName returns name, or "stem (n).ext" for the first n ≥ 2 not yet
// in used, comparing case-insensitively. It gives the names
// aeszip.Writer.Add gives, so that stored files and zip entries of the same
// message are named alike (TestReplaceNamesMatchZip checks it).
func uniqueName(name string, used map[string]struct{}) string {
	candidate := name
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	for n := 2; ; n++ {
		key := strings.ToLower(candidate)
		if _, dup := used[key]; !dup {
			used[key] = struct{}{}
			return candidate
		}
		suffix := " (" + strconv.Itoa(n) + ")"
		candidate = truncateName(stem, maxNameBytes-len(suffix)-len(ext)) + suffix + ext
	}
}

// truncateName cuts name to at most limit bytes on a rune boundary,
// keeping a short extension, as aeszip does.
func truncateName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		ext = name[i:]
		name = name[:i]
	}
	keep := limit - len(ext)
	for keep > 0 && !utf8.RuneStart(name[keep]) {
		keep--
	}
	return strings.TrimRight(name[:keep], " .") + ext
}
