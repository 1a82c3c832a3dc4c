package detect

import "bytes"

const (
	maxHeaderSearchRows = 5  // a header must be among the first rows
	maxHeaderCellBytes  = 64 // longer cells are data, not column names
	maxQuotedLines      = 64 // line breaks allowed inside one quoted field
)

// table is the tabular state of a scan: delimiter, position in the current
// row, and the header's column categories.
type table struct {
	delim       byte // ',' or '\t'; 0 until a line shows one
	inQuote     bool
	quotedLines int // line breaks seen inside the current quoted field
	col         int
	cellStart   int
	rowStart    int
	rowDet      uint16 // detectors hit in the current row
	rowCats     uint32 // personal column categories non-empty in this row
	rowsSeen    int    // rows including the header and preamble
	decided     bool   // header found or search given up
	cols        []uint8
	colWords    []int16 // the header word of each column, for explanations
	nameCols    bool
	// prevCellStart is where the cell left of the current one starts (its
	// label, in key/value rows); firstCellEnd ends the row's first cell
	// (the row header of a transposed table).
	prevCellStart int
	firstCellEnd  int
}

func (t *table) startRow(p int) {
	t.col, t.cellStart, t.rowStart, t.prevCellStart = 0, p, p, p
	t.rowDet, t.rowCats = 0, 0
}

// detectDelim picks the delimiter from the line starting at b[p]: tab when
// it has at least as many tabs as commas, comma when it has commas.
func (t *table) detectDelim(b []byte, p int) {
	line := b[p:]
	if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
		line = line[:nl]
	}
	tabs, commas := bytes.Count(line, []byte{'\t'}), bytes.Count(line, []byte{','})
	switch {
	case tabs > 0 && tabs >= commas:
		t.delim = '\t'
	case commas > 0:
		t.delim = ','
	}
}

func (t *table) colCat() uint8 {
	if t.col < len(t.cols) {
		return t.cols[t.col]
	}
	return catNone
}

// colCtx returns the current column's header category and word.
func (t *table) colCtx() ctxMatch {
	if t.col < len(t.cols) {
		return ctxMatch{cat: t.cols[t.col], word: t.colWords[t.col]}
	}
	return noMatch
}

// cellEnd returns the end of the current cell at or after stop, at most to.
func (t *table) cellEnd(b []byte, stop, to int) int {
	for p := stop; p < to; p++ {
		if c := b[p]; c == '\n' || c == '\r' || c == t.delim && t.delim != 0 {
			return p
		}
	}
	return to
}

// endCell notes a non-empty personal column of the row ending at b[p].
func (s *scanner) endCell(p int) {
	t := &s.tab
	c := t.colCat()
	if !personalCat(c) || t.cellStart > p {
		return
	}
	if cell := trimCell(s.b[t.cellStart:p]); len(cell) > 0 {
		t.rowCats |= 1 << c
		s.noteCell(c, cell)
	}
}

// blankRow reports a row of nothing but delimiters, quotes and spaces.
func blankRow(row []byte) bool {
	for i := 0; i < len(row); {
		switch c := row[i]; {
		case c == ',' || c == ';' || cellPad(c):
			i++
		case ideographicSpaceAt(row, i):
			i += 3
		default:
			return false
		}
	}
	return true
}

func cellPad(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '"' || c == '\''
}

func ideographicSpaceAt(b []byte, i int) bool {
	return i+2 < len(b) && b[i] == 0xE3 && b[i+1] == 0x80 && b[i+2] == 0x80
}

// trimCell strips padding, quotes and ideographic spaces around a cell.
func trimCell(c []byte) []byte {
	for len(c) > 0 {
		switch {
		case cellPad(c[0]):
			c = c[1:]
		case ideographicSpaceAt(c, 0):
			c = c[3:]
		default:
			goto right
		}
	}
right:
	for len(c) > 0 {
		switch {
		case cellPad(c[len(c)-1]):
			c = c[:len(c)-1]
		case len(c) >= 3 && ideographicSpaceAt(c, len(c)-3):
			c = c[:len(c)-3]
		default:
			return c
		}
	}
	return c
}

// endRow closes the row ending at b[p]: the first rows may be the header;
// later rows count as records when they carry personal data.
func (s *scanner) endRow(p int) {
	t := &s.tab
	row := s.b[max(t.rowStart, s.lo):p]
	if blankRow(row) {
		return
	}
	t.rowsSeen++
	if !t.decided {
		if t.rowDet&piiMask == 0 && s.header(row, false) {
			t.decided = true
			return
		}
		// A header comes before the data: give up at the first row with
		// personal data or after a few rows of preamble.
		if t.rowDet&piiMask != 0 || t.rowsSeen >= maxHeaderSearchRows {
			t.decided = true
		}
	} else if t.rowDet&piiMask == 0 && s.header(row, true) {
		// A second header further down (the next sheet of a workbook, a
		// second table in one file) names the columns below it.
		return
	}
	r := s.res
	r.Rows++
	record := t.rowDet&piiMask != 0
	if t.nameCols && t.rowCats&(1<<catName) != 0 && t.rowCats&^(1<<catName) != 0 {
		record = true
	}
	if !record {
		return
	}
	s.prow.items |= t.rowCats
	s.flushPerson(true)
	r.Records++
	for d := range numDetectors {
		if t.rowDet&(1<<d) != 0 && r.sets[d] != nil {
			r.sets[d].records++
		}
	}
}

// header reports whether row names columns; if so it records their
// categories and whether the table lists people. A strict header (one met
// below data) needs two column names making up most of its cells.
func (s *scanner) header(row []byte, strict bool) bool {
	t := &s.tab
	var cats []uint8
	var words []int16
	known, personal, name, nonEmpty := 0, 0, false, 0
	for cell := range splitCells(row, t.delim) {
		cell = trimCell(cell)
		if digitCount(cell) >= 3 {
			return false // column names carry no numbers; this is data
		}
		m := noMatch
		if len(cell) > 0 {
			nonEmpty++
		}
		if len(cell) > 0 && len(cell) <= maxHeaderCellBytes {
			m = s.e.ctx.best(cell, 0, 0, len(cell))
		}
		c := m.cat
		cats = append(cats, c)
		words = append(words, m.word)
		if c != catNone {
			known++
		}
		if personalCat(c) {
			personal++
			name = name || c == catName
		}
	}
	if known == 0 || strict && (known < 2 || known*2 < nonEmpty) {
		return false
	}
	t.cols, t.colWords = cats, words
	t.nameCols = name
	s.res.CustomerList = s.res.CustomerList || name && personal >= 2 || personal >= 3
	return true
}

// splitCells yields the cells of a CSV/TSV row, honouring double quotes.
func splitCells(row []byte, delim byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		if delim == 0 {
			yield(row)
			return
		}
		start, quoted := 0, false
		for i, c := range row {
			switch {
			case c == '"':
				quoted = !quoted
			case c == delim && !quoted:
				if !yield(row[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(row[start:])
	}
}

func digitCount(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		if _, sz := digitAt(b, i, len(b)); sz > 0 {
			n++
			i += sz
			continue
		}
		i++
	}
	return n
}
