package detect

import (
	"strconv"
	"strings"
)

// shapeText names the exact syntax a detector matched.
var shapeText = [numDetectors]string{
	detEmail:   "e-mail address syntax",
	detAddress: "prefecture and municipality",
	detKeyword: "confidentiality dictionary word",
	detCard:    "card number (issuer, length)",
	detPostal:  "postal code followed by an address",
}

// text renders the evidence of detector d for a reviewer: the check digit
// and what made the value personal data, never the value itself.
func (ev evidence) text(d int) string {
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
		if d >= 0 && d < len(shapeText) && shapeText[d] != "" {
			b.WriteString(shapeText[d])
		} else {
			b.WriteString("pattern match")
		}
	default:
		return strings.TrimSuffix(b.String(), "; ")
	}
	return b.String()
}
