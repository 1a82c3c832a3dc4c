package detect

import "bytes"

// Separators between digit groups.
const (
	sepNone uint8 = iota
	sepSpace
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
	q := i
	for q < end && s.b[q] >= '0' && s.b[q] <= '9' {
		q++
	}
	if q-i < minNumberLen && q > i && (q == end || !maybeSeparator(s.b[q])) {
		return q
	}
	b := s.b
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
	default:
		switch r1 {
		case '_', '.', '/', '#', '\\', '@', '$', '=', '?', '&', '¥', '￥', '№', '%':
			p.attached = true
		}
	}
	return p
}

// labelBefore reports a field label glued to the number ("TEL03-…",
// "FAX06…"): a short run of ASCII letters that is a phone label.
func (s *scanner) labelBefore(i int) bool {
	var w [8]byte
	n := 0
	p := i
	for ; p > s.lo && n < len(w); n++ {
		c := s.b[p-1]
		if !isASCIILetter(rune(c)) {
			break
		}
		w[len(w)-1-n] = lowerASCII(c)
		p--
	}
	if p > s.lo && isASCIILetter(rune(s.b[p-1])) {
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

// classifyToken splits the token's groups into atoms (groups joined by
// dashes or parentheses, which are never split) and tries spans of
// space-joined atoms, longest first, against every numeric detector.
func (s *scanner) classifyToken(start, tokEnd, end int) {
	if len(s.digits) < minNumberLen {
		return
	}
	pre := s.prefixOf(start)
	post := s.attachedAfter(tokEnd, end)
	atoms := s.atoms[:0]
	for gi, g := range s.groups {
		if gi == 0 || g.sep == sepSpace {
			atoms = append(atoms, gi)
		}
	}
	na := len(atoms)
	atoms = append(atoms, len(s.groups))
	s.atoms = atoms
	for a := 0; a < na; {
		k := min(maxSpanAtoms, na-a)
		for ; k > 0; k-- {
			g0, g1 := atoms[a], atoms[a+k]
			nd := s.groups[g1-1].d1 - s.groups[g0].d0
			if nd > maxNumberLen && !(a == 0 && pre.plus) {
				continue
			}
			if nd < minNumberLen {
				k = 0
				break
			}
			sp := span{g0: g0, g1: g1, first: a == 0, last: a+k == na}
			if s.classify(sp, pre, post, end) {
				break
			}
		}
		if k <= 0 {
			k = 1
		}
		a += k
	}
}

// span is a candidate number: groups [g0, g1) of the current token.
type span struct {
	g0, g1      int
	first, last bool
}

func (s *scanner) classify(sp span, pre prefix, post bool, end int) bool {
	gs := s.groups[sp.g0:sp.g1]
	d := s.digits[gs[0].d0:gs[len(gs)-1].d1]
	start, stop := gs[0].start, gs[len(gs)-1].end
	attached := sp.first && pre.attached || sp.last && post
	var lens [maxSpanGroups]int
	if len(gs) > maxSpanGroups {
		return false
	}
	paren := false
	for i, g := range gs {
		lens[i] = g.d1 - g.d0
		if g.sep == sepParen && i > 0 {
			paren = true
		}
	}
	ls := lens[:len(gs)]
	cat, known := catNone, false
	ctx := func() uint8 {
		if !known {
			cat, known = s.context(start, stop, end), true
		}
		return cat
	}

	if sp.first && !(sp.last && post) {
		switch {
		case pre.plus && len(d) >= 11 && d[0] == '8' && d[1] == '1':
			if s.intlPhone(d, ctx) {
				return true
			}
		case pre.letters >= 0 && len(ls) == 1 && len(d) == 7:
			if ctx() == catPassport {
				s.val = append(append(s.val[:0], pre.l1, pre.l2), d...)
				s.emit(detPassport, s.val)
				return true
			}
		case pre.t && len(ls) == 1 && len(d) == 13 && corporateValid(d):
			s.emit(detCorporate, d)
			return true
		}
	}
	if attached || len(d) > maxNumberLen {
		return false
	}
	if paren {
		return (len(d) == 10 || len(d) == 11) && s.phone(d, ls, ctx)
	}
	switch len(d) {
	case 7:
		return s.sevenDigits(d, ls, stop, end, ctx)
	case 10, 11:
		return s.phone(d, ls, ctx)
	case 12:
		return s.twelveDigits(d, ls, ctx)
	case 13:
		if s.corporate(d, ls, ctx) {
			return true
		}
	}
	if len(d) >= 13 {
		return s.card(d, ls, ctx)
	}
	return false
}

// context returns the category of the context for the number at
// b[start:stop]: the table column's header when it names one, else the nearest
// context word before the number (across at most one line break, or within
// the cell for tables), else the first one after it on the same line/cell.
func (s *scanner) context(start, stop, end int) uint8 {
	from := max(s.lo, start-lookBehind)
	to := min(end, stop+lookAhead)
	col := catNone
	if s.tabular {
		// A header that names what the column holds decides; a neutral one
		// (氏名, 備考) lets words inside the cell speak first.
		if col = s.tab.colCat(); col != catNone && !neutral(col) {
			return col
		}
		from = max(from, s.tab.cellStart)
		to = s.tab.cellEnd(s.b, stop, to)
	} else {
		from = lineWindowStart(s.b, from, start)
		to = lineEnd(s.b, stop, to)
	}
	if c := s.e.ctx.best(s.b, s.lo, from, start); c != catNone {
		return c
	}
	if c := s.e.ctx.first(s.b, s.lo, stop, to); c != catNone {
		return c
	}
	return col
}

// lineWindowStart moves from forward so that the window [from, start)
// contains at most one line break.
func lineWindowStart(b []byte, from, start int) int {
	w := b[from:start]
	if nl := bytes.LastIndexByte(w, '\n'); nl >= 0 {
		if nl2 := bytes.LastIndexByte(w[:nl], '\n'); nl2 >= 0 {
			return from + nl2 + 1
		}
	}
	return from
}

func lineEnd(b []byte, stop, to int) int {
	for p := stop; p < to; p++ {
		if b[p] == '\n' || b[p] == '\r' {
			return p
		}
	}
	return to
}

func (s *scanner) sevenDigits(d []byte, ls []int, stop, end int, ctx func() uint8) bool {
	grouped := len(ls) == 2 && ls[0] == 3 && ls[1] == 4
	if len(ls) != 1 && !grouped {
		return false
	}
	switch c := ctx(); {
	case c == catPostal,
		grouped && (c == catAddress || c == catNone && s.addressFollows(stop, end)):
		s.emit(detPostal, d)
		return true
	case c == catBank:
		s.emit(detBank, d)
		return true
	}
	return false
}

// addressFollows reports a prefecture right after b[p] (spaces skipped).
func (s *scanner) addressFollows(p, end int) bool {
	for k := 0; k < 3 && p < end; k++ {
		r, n := fold(s.b, p, end)
		if r != ' ' {
			if _, ok := s.e.places.at(s.b, p, end, r); ok {
				return true
			}
			return false
		}
		p += n
	}
	return false
}

func (s *scanner) phone(d []byte, ls []int, ctx func() uint8) bool {
	if !phoneValid(d) || !phoneGrouping(d, ls) {
		return false
	}
	c := ctx()
	if !neutral(c) && c != catPhone {
		return false
	}
	if len(ls) == 1 && len(d) == 10 && c != catPhone {
		return false // a bare 10-digit number is too often a code
	}
	s.emit(detPhone, d)
	return true
}

// intlPhone handles "+81" forms: the country code replaces the trunk 0.
func (s *scanner) intlPhone(d []byte, ctx func() uint8) bool {
	s.val = append(s.val[:0], '0')
	rest := d[2:]
	if len(rest) > 0 && rest[0] == '0' { // "+81 (0)90…" written with the trunk 0
		rest = rest[1:]
	}
	s.val = append(s.val, rest...)
	if !phoneValid(s.val) {
		return false
	}
	if c := ctx(); !neutral(c) && c != catPhone {
		return false
	}
	s.emit(detPhone, s.val)
	return true
}

func (s *scanner) twelveDigits(d []byte, ls []int, ctx func() uint8) bool {
	g444 := len(ls) == 3 && ls[0] == 4 && ls[1] == 4 && ls[2] == 4
	if len(ls) != 1 && !g444 {
		return false
	}
	switch c := ctx(); {
	case c == catLicense:
		s.emit(detLicense, d)
		return true
	case !myNumberValid(d):
		return false
	case c == catMyNumber, g444 && neutral(c):
		s.emit(detMyNumber, d)
		return true
	}
	return false
}

func (s *scanner) corporate(d []byte, ls []int, ctx func() uint8) bool {
	g1444 := len(ls) == 4 && ls[0] == 1 && ls[1] == 4 && ls[2] == 4 && ls[3] == 4
	if len(ls) != 1 && !g1444 || !corporateValid(d) {
		return false
	}
	if c := ctx(); c == catCorporate || g1444 && neutral(c) {
		s.emit(detCorporate, d)
		return true
	}
	return false
}

func (s *scanner) card(d []byte, ls []int, ctx func() uint8) bool {
	if !cardGrouping(ls) || !cardIssuer(d) || !luhnValid(d) {
		return false
	}
	c := ctx()
	if c != catCard && (!neutral(c) || len(d) == 13) {
		return false
	}
	s.emit(detCard, d)
	return true
}
