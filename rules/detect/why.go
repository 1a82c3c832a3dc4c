package detect

import (
	"strconv"
	"strings"
)

// String renders the evidence for a reviewer: the check digit and what
// made the value personal data, never the value itself.
func (ev evidence) String() string {
	var b strings.Builder
	if ev.check {
		b.WriteString("check digit ok; ")
	}
	word := func() string {
		if ev.word < 0 || int(ev.word) >= len(contextWords) {
			return "「?」"
		}
		return "「" + contextWords[ev.word].w + "」"
	}
	switch ev.kind {
	case whyBefore:
		b.WriteString("context word " + word() + " " + strconv.Itoa(int(ev.dist)) + " chars before")
	case whyAfter:
		b.WriteString("context word " + word() + " " + strconv.Itoa(int(ev.dist)) + " chars after")
	case whyHeader:
		b.WriteString("column header " + word())
	case whyLabelCell:
		b.WriteString("label cell " + word())
	case whyGrouping:
		b.WriteString("printed grouping, no contrary label")
	case whyList:
		b.WriteString("list of " + strconv.Itoa(int(ev.dist)) + " checksum-valid values")
	case whyPrefix:
		b.WriteString("prefix form")
	case whyShape:
		b.WriteString("pattern match")
	default:
		return strings.TrimSuffix(b.String(), "; ")
	}
	return b.String()
}
