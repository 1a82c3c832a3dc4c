package detect

import "bytes"

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
