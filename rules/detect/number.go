package detect

// Separators between digit groups.
const (
	sepNone uint8 = iota
	sepSpace
	sepGap // two or more spaces: a column gap more likely than a grouping
	sepDash
	sepParen
)

const (
	maxGroups     = 64 // a longer run of groups is cut into tokens
	maxSpanAtoms  = 5  // 4-4-4-4-3 written with spaces
	maxNumberLen  = 19
	minNumberLen  = 7
	lookBehind    = 96 // bytes of context before a number (≈32 kanji)
	lookAhead     = 48 // bytes of context after it, same line only
	maxSpanGroups = 6
	maxSepRunes   = 3
)

type group struct {
	start, end int   // byte offsets in s.b
	d0, d1     int   // digit offsets in s.digits
	sep        uint8 // separator before this group
}

// number tokenises the digit groups starting at b[i] and classifies them.
// It returns the offset after the token.
func (s *scanner) number(i, end int) int {
	// Fast path: most digit runs in prose are short (dates, amounts, times)
	// and not followed by a separator; nothing can match them.
	b := s.b[:end]
	q := i
	for q < len(b) && b[q] >= '0' && b[q] <= '9' {
		q++
	}
	if q-i < minNumberLen && q > i && (q == len(b) || !maybeSeparator(b[q])) {
		if q-i == 6 {
			s.sixDigits(b[i:q], i, q, end)
		}
		return q
	}
	digits, groups := s.digits[:0], s.groups[:0]
	p, sep := i, sepNone
	for {
		g := group{start: p, d0: len(digits), sep: sep}
		for p < end {
			if c := b[p]; c >= '0' && c <= '9' { // ASCII first: the common case
				digits = append(digits, c)
				p++
				continue
			}
			d, n := digitAt(b, p, end)
			if n == 0 {
				break
			}
			digits = append(digits, d)
			p += n
		}
		g.end, g.d1 = p, len(digits)
		groups = append(groups, g)
		if len(groups) >= maxGroups {
			break
		}
		q, k := s.separator(p, end)
		if k == sepNone || q >= end {
			break
		}
		if _, n := digitAt(b, q, end); n == 0 {
			break
		}
		p, sep = q, k
	}
	s.digits, s.groups = digits, groups
	s.classifyToken(i, p, end)
	return p
}

// separator reads up to maxSepRunes spaces, one dash or parentheses at b[p].
func (s *scanner) separator(p, end int) (int, uint8) {
	spaces, dashes, parens := 0, 0, 0
	q := p
	for k := 0; k < maxSepRunes && q < end; k++ {
		c := s.b[q]
		if !maybeSeparator(c) {
			break
		}
		r, n := rune(c), 1
		if c >= 0x80 {
			r, n = fold(s.b, q, end)
		}
		switch {
		case r == ' ':
			spaces++
		case isDash(r):
			dashes++
		case r == '(' || r == ')':
			parens++
		default:
			k = maxSepRunes
			continue
		}
		q += n
	}
	switch {
	case q == p, dashes > 1, dashes == 1 && parens > 0:
		return p, sepNone
	case parens > 0:
		return q, sepParen
	case dashes == 1:
		return q, sepDash
	case spaces > 1:
		return q, sepGap
	}
	return q, sepSpace
}

// maybeSeparator filters on the first byte: ASCII space, dash and
// parentheses, and the lead bytes of the non-ASCII spaces and dashes (C2
// no-break space, E2 dashes and minus, E3 ideographic space and ー, EF
// full-width forms).
func maybeSeparator(c byte) bool {
	switch c {
	case ' ', '-', '(', ')', 0xC2, 0xE2, 0xE3, 0xEF:
		return true
	}
	return false
}

// prefix describes what stands immediately before a number token.
type prefix struct {
	attached bool // glued to a code, amount, path, URL, …
	plus     bool // "+81…"
	letters  int  // offset of two capital letters (passport), or -1
	l1, l2   byte // those letters, folded
	t        bool // "T" + 13 digits: invoice registration number
}

func (s *scanner) prefixOf(i int) prefix {
	p := prefix{letters: -1}
	r1, n1 := foldLast(s.b, s.lo, i)
	switch {
	case r1 < 0:
	case isASCIILetter(r1):
		p.attached = !s.labelBefore(i)
		r2, n2 := foldLast(s.b, s.lo, i-n1)
		r3, _ := foldLast(s.b, s.lo, i-n1-n2)
		upper := r1 >= 'A' && r1 <= 'Z'
		switch {
		case upper && r2 >= 'A' && r2 <= 'Z' && !isASCIIAlnum(r3):
			p.letters = i - n1 - n2
			p.l1, p.l2 = byte(r2), byte(r1)
		case r1 == 'T' && !isASCIIAlnum(r2):
			p.t = true
		}
	case r1 == '+':
		p.plus = true
	case isDash(r1):
		r2, _ := foldLast(s.b, s.lo, i-n1)
		p.attached = isASCIIAlnum(r2)
	case isASCIIDigit(r1):
		p.attached = true
	case r1 == '.': // "Tel.03-…" is labelled; "v1.2", "No.1234…" are codes
		p.attached = !s.labelBefore(i - n1)
	default:
		switch r1 {
		case '_', '/', '#', '\\', '@', '$', '=', '?', '&', '¥', '￥', '№', '%':
			p.attached = true
		}
	}
	return p
}

// labelBefore reports a field label glued to the number ("TEL03-…",
// "ＦＡＸ06…"): a short run of letters that is a phone label.
func (s *scanner) labelBefore(i int) bool {
	var w [8]byte
	n, p := 0, i
	for ; n < len(w); n++ {
		r, sz := foldLast(s.b, s.lo, p)
		if !isASCIILetter(r) {
			break
		}
		w[len(w)-1-n] = lowerASCII(byte(r))
		p -= sz
	}
	if r, _ := foldLast(s.b, s.lo, p); isASCIILetter(r) {
		return false // a longer word: HOTEL03…
	}
	switch string(w[len(w)-n:]) {
	case "tel", "fax", "phone", "mobile", "cell":
		return true
	}
	return false
}

// attachedAfter reports whether the token ending at b[p] continues as a code,
// decimal, path, amount or date.
func (s *scanner) attachedAfter(p, end int) bool {
	if p >= end {
		return false
	}
	r, n := fold(s.b, p, end)
	if isASCIILetter(r) {
		return true
	}
	switch r {
	case '_', '@', '\\', '円', '万', '億', '年', '月', '日', '時', '分', '秒', '件', '個', '枚', '歳', '%':
		return true
	case '.', '/', ':', ',':
		if r == ',' && s.tabular && s.tab.delim == ',' {
			return false
		}
		if p+n < end {
			r2, _ := fold(s.b, p+n, end)
			return isASCIIAlnum(r2)
		}
	}
	if isDash(r) && p+n < end {
		r2, _ := fold(s.b, p+n, end)
		return isASCIIAlnum(r2)
	}
	return false
}
