package detect

import (
	"bytes"
	"unicode/utf8"
)

// The context of a number is read at three distances:
//
//   - near: the word ending nearest before the number, within lookBehind
//     bytes and one line break, else the first word after it on its line.
//     Any category decides, neutral ones included, so a nearer 注文番号
//     overrides an earlier マイナンバー.
//   - column: the header of the column the number sits in, for CSV/TSV and
//     for tables pasted into prose (tab-, space- or 全角スペース-aligned,
//     as DOCX, PPTX and HTML tables are also rendered).
//   - far: for the identifiers that a label alone makes certain (My
//     Number, Corporate Number, the pension, residence card, 住民票 and
//     insurance numbers), a label up to farChars characters before, across
//     lines, supports the number unless a contrary label (注文番号, …)
//     stands between. 150 characters is four or five lines of Japanese
//     business prose: Purview's 300 counts English characters, and Japanese
//     says the same in about half as many. A far label only ever adds a
//     finding; it never vetoes one.
const (
	farChars = 150
	farBytes = farChars * 3 // a Japanese character is three bytes in UTF-8
)

// Explanation kinds recorded with a finding.
const (
	whyNone      uint8 = iota
	whyBefore          // a context word before the value
	whyAfter           // a context word after it
	whyHeader          // the column header
	whyLabelCell       // the label cell left of the value
	whyGrouping        // the printed grouping (4-4-4, 1-4-4-4, a phone's)
	whyList            // one of several checksum-valid values in one text
	whyPrefix          // "+81", "T" + 13 digits, passport letters
	whyShape           // the value's own syntax (e-mail, address, keyword)
)

// evidence says why a value was reported; it is what Hit.Why renders.
type evidence struct {
	kind  uint8
	check bool  // a check digit passed
	word  int16 // index in contextWords, or -1
	dist  int32 // characters between word and value, or the list size
	// gap is the byte span between word and value when dist is still to
	// be counted: only a value reported needs it.
	gap [2]int
}

// ctxResult is the decision of context: the category and its evidence.
type ctxResult struct {
	cat uint8
	ev  evidence
}

// context returns the category of the context for the number at
// b[start:stop]: the table column's header when it names one, else the
// nearest context word before the number (across at most one line break,
// or within the cell for tables), else the first one after it on the same
// line/cell, else (tables) the label cell to its left.
func (s *scanner) context(start, stop, end int) ctxResult {
	from := max(s.lo, start-lookBehind)
	to := min(end, stop+lookAhead)
	col := ctxResult{ev: evidence{word: -1}}
	if s.tabular {
		// A header that names what the column holds decides; a neutral one
		// (氏名, 備考) lets words inside the cell speak first.
		if cc := s.tab.colCtx(); cc.cat != catNone {
			col = ctxResult{cat: cc.cat, ev: evidence{kind: whyHeader, word: cc.word}}
			if !neutral(cc.cat) {
				return col
			}
		}
		from = max(from, s.tab.cellStart)
		to = s.tab.cellEnd(s.b, stop, to)
	} else {
		if pc, ok := s.proseColumn(start, stop); ok {
			col = ctxResult{cat: pc.cat, ev: evidence{kind: whyHeader, word: pc.word}}
			if !neutral(pc.cat) {
				return col
			}
		}
		from = lineWindowStart(s.b, from, start)
		to = lineEnd(s.b, stop, to)
	}
	if m := s.e.ctx.best(s.b, s.lo, from, start); m.cat != catNone {
		return ctxResult{cat: m.cat, ev: evidence{kind: whyBefore, word: m.word, gap: [2]int{m.end, start}}}
	}
	if m := s.e.ctx.first(s.b, s.lo, stop, to); m.cat != catNone {
		return ctxResult{cat: m.cat, ev: evidence{kind: whyAfter, word: m.word, gap: [2]int{stop, m.start}}}
	}
	if s.tabular && col.cat == catNone && s.tab.col > 0 {
		// Key/value rows: 「マイナンバー」,「123456789018」; in a transposed
		// table the row's first cell labels every value to its right.
		if c, ok := s.labelCell(s.tab.prevCellStart, s.tab.cellStart-1); ok {
			return c
		}
		if s.tab.col > 1 {
			if c, ok := s.labelCell(s.tab.rowStart, s.tab.firstCellEnd); ok {
				return c
			}
		}
	}
	return col
}

// labelCell reads a short cell b[from:to] as a label.
func (s *scanner) labelCell(from, to int) (ctxResult, bool) {
	from = max(s.lo, from)
	if to <= from || len(trimCell(s.b[from:to])) > maxHeaderCellBytes || digitCount(s.b[from:to]) >= 3 {
		return ctxResult{}, false
	}
	m := s.e.ctx.best(s.b, s.lo, from, to)
	if m.cat == catNone {
		return ctxResult{}, false
	}
	return ctxResult{cat: m.cat, ev: evidence{kind: whyLabelCell, word: m.word}}, true
}

// example reports a documentation marker (テスト用, サンプル, 記入例) in
// the near window of the number at b[start:stop]: a value shown as an
// example is not data, even right after its proper label
// (「テスト用のカード番号：4111 1111 1111 1111」).
func (s *scanner) example(start, stop, end int) bool {
	from := max(s.lo, start-lookBehind)
	to := min(end, stop+lookAhead)
	if s.tabular {
		from = max(from, s.tab.cellStart)
		to = s.tab.cellEnd(s.b, stop, to)
	} else {
		from = lineWindowStart(s.b, from, start)
		to = lineEnd(s.b, stop, to)
	}
	if m := s.e.ctx.nearestOf(s.b, s.lo, from, start, catExample); m.word >= 0 {
		return true
	}
	return s.e.ctx.first(s.b, s.lo, stop, to).cat == catExample
}

// far looks for a label of category want up to farChars characters before
// b[start], across lines; a contrary label nearer to the number hides it.
func (s *scanner) far(start int, want uint8) (evidence, bool) {
	from := max(s.lo, start-farBytes)
	if s.tabular {
		from = max(from, s.tab.cellStart)
	}
	m := s.e.ctx.nearestOf(s.b, s.lo, from, start, want)
	if m.word < 0 {
		return evidence{}, false
	}
	n := utf8.RuneCount(s.b[m.end:start])
	if n > farChars {
		return evidence{}, false
	}
	return evidence{kind: whyBefore, word: m.word, dist: int32(n)}, true
}

// farAfter reads the first context word after b[stop] through the next
// line (「123456789018」 /「（上記は本人のマイナンバーです）」): it supports
// the number when it is of category want.
func (s *scanner) farAfter(stop, end int, want uint8) (evidence, bool) {
	if s.tabular {
		return evidence{}, false
	}
	// The next line may lie beyond the scan's end: a Document holds one
	// complete line back for this look.
	to := min(len(s.b), stop+2*lookAhead)
	next := to // start of the next line
	if nl := bytes.IndexByte(s.b[stop:to], '\n'); nl >= 0 {
		next = stop + nl + 1
		if nl2 := bytes.IndexByte(s.b[next:to], '\n'); nl2 >= 0 {
			to = next + nl2
		}
	}
	m := s.e.ctx.first(s.b, s.lo, stop, to)
	if m.cat != want {
		return evidence{}, false
	}
	// A label on the next line that is followed by its own value
	// (「マイナンバー：292202361448」) labels that value, not this one.
	if m.start >= next && digitCount(s.b[m.end:to]) >= 4 {
		return evidence{}, false
	}
	return evidence{kind: whyAfter, word: m.word, dist: int32(utf8.RuneCount(s.b[stop:m.start]))}, true
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
