package detect

// classifyToken splits the token's groups into atoms (groups joined by
// dashes or parentheses, which are never split) and tries spans of
// space-joined atoms, longest first, against every numeric detector.
func (s *scanner) classifyToken(start, tokEnd, end int) {
	if len(s.digits) < minNumberLen {
		if len(s.digits) == 6 && len(s.groups) == 1 {
			s.sixDigits(s.digits, start, s.groups[0].end, end)
		}
		return
	}
	pre := s.prefixOf(start)
	post := s.attachedAfter(tokEnd, end)
	atoms := s.atoms[:0]
	for gi, g := range s.groups {
		if gi == 0 || g.sep == sepSpace || g.sep == sepGap {
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
			// A window of several groups cut out of a longer run of groups
			// of the same size (the first 12 digits of "4111 1111 1111
			// 1112") is not a number of its own.
			if k > 1 {
				sp.cut = a > 0 && s.groups[g0].sep == sepSpace && s.atomLen(a-1) == s.atomLen(a) ||
					a+k < na && s.groups[g1].sep == sepSpace && s.atomLen(a+k) == s.atomLen(a+k-1)
			}
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

// atomLen returns the number of digits of atom a of the current token.
func (s *scanner) atomLen(a int) int {
	return s.groups[s.atoms[a+1]-1].d1 - s.groups[s.atoms[a]].d0
}

// span is a candidate number: groups [g0, g1) of the current token.
type span struct {
	g0, g1      int
	first, last bool
	cut         bool // several groups cut out of a longer run of like groups
}

// classify tries the span against the prefixed forms (+81, passport
// letters, T + corporate number) and then by digit count.
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
	c := &numCtx{s: s, start: start, stop: stop, end: end}
	ctx := c.cat

	if sp.first && sp.last && pre.letters >= 0 && len(ls) == 1 && len(d) == 8 {
		if s.residenceCard(d, pre, stop, end, c) {
			return true
		}
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
				s.ev.check = false
				s.emit(detPassport, s.val)
				return true
			}
		case pre.t && len(ls) == 1 && len(d) == 13 && corporateValid(d):
			s.ev = evidence{kind: whyPrefix, word: -1, check: true}
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
	// Insurance numbers come last: the common shapes (phones, postal
	// codes) decide first and do not pay for them.
	switch len(d) {
	case 7:
		return s.sevenDigits(d, ls, stop, end, ctx) || s.insurance(d, ls, c)
	case 8, 9:
		return s.insurance(d, ls, c)
	case 10:
		return s.pension(d, ls, c) || s.phone(d, ls, ctx) || s.insurance(d, ls, c)
	case 11:
		return s.juminhyo(d, ls, c) || s.phone(d, ls, ctx)
	case 12:
		return !sp.cut && s.twelveDigits(d, ls, c)
	case 13:
		if !sp.cut && s.corporate(d, ls, c) {
			return true
		}
	}
	if len(d) >= 13 && !sp.cut {
		return s.card(d, ls, c)
	}
	return false
}

// numCtx computes a number's context once, on first use, and points the
// scanner's evidence at it.
type numCtx struct {
	s                *scanner
	start, stop, end int
	res              ctxResult
	known            bool
}

// example reports a documentation marker near the number.
func (c *numCtx) example() bool { return c.s.example(c.start, c.stop, c.end) }

func (c *numCtx) cat() uint8 {
	if !c.known {
		c.res, c.known = c.s.context(c.start, c.stop, c.end), true
	}
	c.s.ev = c.res.ev
	return c.res.cat
}

// supports reports whether the context says want: the near context or
// column, else a label of that kind in the far window. Evidence follows.
func (c *numCtx) supports(want uint8) bool {
	switch cat := c.cat(); {
	case cat == want:
		return true
	case !neutral(cat):
		return false
	}
	ev, ok := c.s.far(c.start, want)
	if !ok {
		ev, ok = c.s.farAfter(c.stop, c.end, want)
	}
	if ok {
		c.s.ev = ev
	}
	return ok
}
