package detect

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
