package detect

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

// twelveDigits: a driver's licence number with licence context; else a My
// Number passing the check digit with My Number context, or grouped 4-4-4
// with neutral context.
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

// corporate: a Corporate Number passing the check digit with corporate
// context, or grouped 1-4-4-4 with neutral context ("T" + 13 digits is
// handled by classify).
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

// card: Luhn, an issuer's prefix and length, a printed grouping, and card or
// neutral context (13 digits need card context).
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
