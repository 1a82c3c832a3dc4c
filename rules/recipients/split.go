package recipients

import "strings"

// item is one mailbox text from an address list, with its group name.
type item struct {
	text  string
	group string
}

// maxResplits bounds how many unbalanced quotes, comments or brackets
// splitList neutralises before giving up on a list.
const maxResplits = 16

// splitList splits an address list at top-level commas, and at the ':' and
// ';' of groups, respecting quoted strings, comments and angle brackets, so
// that one broken mailbox cannot swallow its neighbours. It never fails: a
// quote, comment or bracket left open at the end is taken as a literal
// character and the list is split again.
func splitList(s string) []item {
	for range maxResplits {
		items, open := splitOnce(s)
		if open < 0 {
			return items
		}
		s = s[:open] + " " + s[open+1:]
	}
	items, _ := splitOnce(s)
	return items
}

// splitOnce does one pass of splitList. open is the index of the quote,
// parenthesis or angle bracket still open at the end, or -1.
func splitOnce(s string) (items []item, open int) {
	var (
		group   string
		start   int
		inQuote bool
		depth   int // comment nesting
		inAngle bool
		opened  int // where the construct still open began
		emit    = func(end int) {
			if t := strings.TrimSpace(s[start:end]); t != "" {
				items = append(items, item{text: t, group: group})
			}
		}
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (inQuote || depth > 0):
			i++
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case depth > 0:
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
		case inAngle:
			if c == '>' {
				inAngle = false
			}
		case c == '"':
			inQuote, opened = true, i
		case c == '(':
			depth, opened = 1, i
		case c == '<':
			inAngle, opened = true, i
		case c == ',':
			emit(i)
			start = i + 1
		case c == ':':
			group = strings.TrimSpace(decodeName(unquote(strings.TrimSpace(stripComments(s[start:i])))))
			start = i + 1
		case c == ';':
			emit(i)
			group = ""
			start = i + 1
		}
	}
	if inQuote || depth > 0 || inAngle {
		return nil, opened
	}
	emit(len(s))
	return items, -1
}

// stripComments removes RFC 5322 comments outside quoted strings.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth == 0 && inQuote:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inQuote = false
			}
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
			}
		case c == '"':
			inQuote = true
			b.WriteByte(c)
		case c == '(':
			depth = 1
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
