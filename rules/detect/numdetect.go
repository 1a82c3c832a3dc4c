package detect

import "unicode/utf8"

// The numeric detectors. Each gets the normalised digits d, the group
// lengths ls and a lazy context category, and reports whether it claimed the
// span. A non-neutral context of another kind (an order number, a bank
// account next to a phone-shaped number) vetoes.

// sevenDigits: a postal code with 〒/郵便番号 context, or grouped 3-4 with
// address context or a prefecture right after it; a bank account number with
// bank context (銀行, 支店, 口座, 普通, 当座).
func (s *scanner) sevenDigits(d []byte, ls []int, stop, end int, ctx func() uint8) bool {
	grouped := len(ls) == 2 && ls[0] == 3 && ls[1] == 4
	if len(ls) != 1 && !grouped {
		return false
	}
	switch c := ctx(); {
	case c == catPostal, grouped && c == catAddress:
		s.emit(detPostal, d)
		return true
	case grouped && c == catNone && s.addressFollows(stop, end):
		s.ev = evidence{kind: whyShape, word: -1}
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

// phone: a valid Japanese number in a printed grouping; a bare 10-digit
// landline needs phone context.
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
	if c != catPhone {
		s.ev = evidence{kind: whyGrouping, word: -1}
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
	} else if c != catPhone {
		s.ev = evidence{kind: whyPrefix, word: -1}
	}
	s.emit(detPhone, s.val)
	return true
}

// twelveDigits: a driver's licence number with licence context; else a My
// Number passing the check digit with My Number context (near, column or
// far), or grouped 4-4-4 with neutral context. An unlabelled, ungrouped
// valid number waits for company: several of them in one text, with no
// unlabelled 12-digit number failing the check, are a list of My Numbers
// (three chance passes in a row are about one in a thousand).
func (s *scanner) twelveDigits(d []byte, ls []int, c *numCtx) bool {
	g444 := len(ls) == 3 && ls[0] == 4 && ls[1] == 4 && ls[2] == 4
	if len(ls) != 1 && !g444 {
		return false
	}
	cat := c.cat()
	switch {
	case cat == catLicense:
		s.emit(detLicense, d)
		return true
	case !myNumberValid(d):
		if len(ls) == 1 && neutral(cat) {
			s.list.bad++
		}
		return false
	case c.example():
		return true // claimed: its digits are no other number either
	case c.supports(catMyNumber):
		s.ev.check = true
		s.emit(detMyNumber, d)
		return true
	case !neutral(cat):
		return false
	case g444:
		s.ev = evidence{kind: whyGrouping, word: -1, check: true}
		s.emit(detMyNumber, d)
		return true
	}
	s.list.add(d, s.lineHit || s.base+s.at < s.lineDone)
	return true
}

// myList holds unlabelled checksum-valid 12-digit numbers until the end
// of the text decides whether they form a list.
type myList struct {
	vals    [][]byte
	counted int // values on lines already counted in Lines
	bad     int // unlabelled 12-digit numbers failing the check
}

const maxListValues = exactLimit

func (l *myList) add(d []byte, lineCounted bool) {
	if len(l.vals) < maxListValues {
		l.vals = append(l.vals, append([]byte(nil), d...))
		if lineCounted {
			l.counted++
		}
	}
}

// flushList reports the pending values when they form a list.
func (s *scanner) flushList() {
	l := &s.list
	if len(l.vals) >= 2 && l.bad == 0 && s.e.enabled[detMyNumber] {
		ev := evidence{kind: whyList, word: -1, check: true, dist: int32(len(l.vals))}
		for _, v := range l.vals {
			s.res.add(detMyNumber, v, ev)
		}
		s.res.Lines += len(l.vals) - l.counted
	}
	*l = myList{}
}

// corporate: a Corporate Number passing the check digit with corporate
// context (near, column or far), or grouped 1-4-4-4 with neutral context
// ("T" + 13 digits is handled by classify).
func (s *scanner) corporate(d []byte, ls []int, c *numCtx) bool {
	g1444 := len(ls) == 4 && ls[0] == 1 && ls[1] == 4 && ls[2] == 4 && ls[3] == 4
	if len(ls) != 1 && !g1444 || !corporateValid(d) {
		return false
	}
	if c.supports(catCorporate) {
		s.ev.check = true
		s.emit(detCorporate, d)
		return true
	}
	if g1444 && neutral(c.cat()) {
		s.ev = evidence{kind: whyGrouping, word: -1, check: true}
		s.emit(detCorporate, d)
		return true
	}
	return false
}

// pension: a 基礎年金番号, 4-6 digits (or ten in a row), only with pension
// context: the number has no check digit.
func (s *scanner) pension(d []byte, ls []int, c *numCtx) bool {
	if len(ls) == 2 && (ls[0] != 4 || ls[1] != 6) || len(ls) > 2 {
		return false
	}
	if !c.supports(catPension) {
		return false
	}
	s.emit(detPension, d)
	return true
}

// juminhyo: an 住民票コード, 11 digits in a row passing its check digit,
// with 住民票コード context.
func (s *scanner) juminhyo(d []byte, ls []int, c *numCtx) bool {
	if len(ls) != 1 || !juminhyoValid(d) || !c.supports(catJuminhyo) {
		return false
	}
	s.ev.check = true
	s.emit(detJuminhyo, d)
	return true
}

// insurance: a health insurer number (保険者番号: 8 digits, the last a
// Luhn check digit; the six-digit national ones are sixDigits') with
// insurer context, or an insured person's 記号・番号 (7 to 10 digits, no
// check digit) with 被保険者/保険証 context nearby.
func (s *scanner) insurance(d []byte, ls []int, c *numCtx) bool {
	// A phone number is never an insurance number, even next to 保険証.
	if len(d) < 6 || len(ls) > 2 || phoneValid(d) {
		return false
	}
	switch cat := c.cat(); {
	case cat == catInsured:
		s.emit(detHealth, d)
		return true
	case len(d) == 8 && len(ls) == 1 && luhnValid(d) && c.supports(catInsurer):
		s.ev.check = true
		s.emit(detHealth, d)
		return true
	}
	return false
}

// sixDigits handles the six-digit identifiers of health insurance, the
// digits d written at b[i:q]: a national health insurer number (都道府県 2 +
// 保険者 3 + Luhn check digit) or an insured person's 記号・番号, with the
// cheap tests first: six-digit runs (amounts, codes) are common.
func (s *scanner) sixDigits(d []byte, i, q, end int) {
	if !s.e.enabled[detHealth] || i > s.lo && isASCIIAlnum(rune(s.b[i-1])) ||
		s.prefixOf(i).attached || s.attachedAfter(q, end) {
		return
	}
	s.at = i
	c := &numCtx{s: s, start: i, stop: q, end: end}
	switch {
	case c.cat() == catInsured:
		s.emit(detHealth, d)
	case luhnValid(d) && c.supports(catInsurer):
		s.ev.check = true
		s.emit(detHealth, d)
	}
}

// residenceCard: 在留カード番号, two capital letters, eight digits and two
// capital letters (AB12345678CD), with residence card context.
func (s *scanner) residenceCard(d []byte, pre prefix, stop, end int, c *numCtx) bool {
	l3, l4, ok := s.lettersAfter(stop, end)
	if !ok || !c.supports(catResidence) {
		return false
	}
	s.val = append(append(append(s.val[:0], pre.l1, pre.l2), d...), l3, l4)
	s.emit(detResidence, s.val)
	return true
}

// lettersAfter reads exactly two capital letters (ASCII or full-width) at
// b[p], not followed by a letter or digit.
func (s *scanner) lettersAfter(p, end int) (l1, l2 byte, ok bool) {
	var ls [2]byte
	for k := range ls {
		if p >= end {
			return 0, 0, false
		}
		r, n := fold(s.b, p, end)
		if r < 'A' || r > 'Z' {
			return 0, 0, false
		}
		ls[k] = byte(r)
		p += n
	}
	if p < end {
		if r, _ := fold(s.b, p, end); isASCIIAlnum(r) {
			return 0, 0, false
		}
	}
	return ls[0], ls[1], true
}

// maxLabelGap is how close (in characters) a word must stand to label a
// number directly.
const maxLabelGap = 3

// card: Luhn, an issuer's prefix and length, a printed grouping, and no
// contrary context (13 digits need card context).
func (s *scanner) card(d []byte, ls []int, nc *numCtx) bool {
	ctx := nc.cat
	if !cardGrouping(ls) || !cardIssuer(d) || !luhnValid(d) {
		return false
	}
	c := ctx()
	// No phone, postal, bank or My Number is 14 digits or longer, so only
	// a contrary label (an order or reference number) vetoes those; 13
	// digits need card context.
	// A topic word vetoes only as the number's own label, right next to it
	// ("Order 4111…"), not as the subject of the sentence.
	contrary := c == catNegative
	if ev := nc.res.ev; contrary && topicWord(ev.word) && ev.gap[1] > ev.gap[0] {
		contrary = utf8.RuneCount(s.b[ev.gap[0]:ev.gap[1]]) <= maxLabelGap
	}
	if c != catCard && (contrary || c == catExample || len(d) == 13) {
		return false
	}
	if nc.example() {
		return false
	}
	if c != catCard {
		s.ev = evidence{kind: whyGrouping, word: -1}
		if len(ls) == 1 {
			s.ev.kind = whyShape
		}
	}
	s.ev.check = true
	s.emit(detCard, d)
	return true
}
