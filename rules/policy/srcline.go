package policy

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// whenSourceLine maps a position in the condition (CEL line, 0-based column)
// back to the YAML line it came from. A literal block keeps lines as they
// are; plain, quoted and folded scalars fold line breaks into spaces, so the
// position is located by walking the source lines' text. Quoted escapes and
// blank lines inside folded text can shift the result by a line at most.
func (s *ruleSpec) whenSourceLine(src [][]byte, celLine, celCol int) int {
	block := s.whenStyle&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if s.whenStyle&yaml.LiteralStyle != 0 {
		return s.whenLine + celLine
	}
	// Offset of the position in the condition text.
	lines := strings.Split(s.When, "\n")
	off := celCol
	for i := 0; i < celLine-1 && i < len(lines); i++ {
		off += len(lines[i]) + 1
	}
	first := s.whenLine // 1-based line of the first text
	if block {
		first++
	}
	for i := first - 1; i >= 0 && i < len(src); i++ {
		text := src[i]
		if i == s.whenLine-1 && !block {
			// The value starts after "when:" on the key's line.
			if k := bytes.Index(text, []byte("when:")); k >= 0 {
				text = text[k+len("when:"):]
			}
		}
		seg := len(bytes.TrimSpace(text))
		if seg == 0 {
			continue
		}
		if off <= seg {
			return i + 1
		}
		off -= seg + 1
	}
	return s.whenLine
}
