package detect

import (
	"bytes"
	"unicode/utf8"
)

// Tables pasted into prose: a block of consecutive lines whose cells are
// separated by tabs (also how DOCX, PPTX and HTML tables reach the
// detectors), by two or more spaces, or by 全角スペース. A line of short
// cells naming columns (氏名 / マイナンバー / 住所) is the header; it carries
// to every row below it until a blank or a plain prose line ends the block.
// The search is lazy: only a number that needs context looks up, and the
// header found is cached so a long table is walked once.

const (
	maxProseHeaderBack = 4096 // bytes searched upwards for a header
	maxProseLine       = 2048 // longer lines are not table rows
	maxHeaderCellRunes = 16
	// A number's cell holds little else (「本人：」, 「〒」), so the gap before
	// it is searched this far back.
	maxCellBytes = 36
)

var (
	twoSpaces        = []byte("  ")
	ideographicSpace = []byte("\u3000")
)

type proseCol struct {
	cat  uint8
	word int16
	at   int // display column of the cell's start (space-aligned tables)
}

// proseTable caches the header of the current prose table in absolute
// offsets (s.base + index), so it survives a Document's compaction.
type proseTable struct {
	hdrEnd  int // end of the header line; 0 when no header is cached
	checked int // rows up to here are verified to belong to the table
	tabs    bool
	cols    []proseCol

	// noHdr is where the rows searched without finding a header end.
	noHdr     int
	noHdrTabs bool

	// The last line classified, so that the numbers of one line classify
	// it once: [lineStart, lineEnd) absolute, and its kind.
	lineStart, lineEnd int
	lineKind           uint8
}

// Line kinds.
const (
	lineProse uint8 = iota + 1
	lineTabs
	lineSpaced
)

// proseColumn returns the header cell above the number at b[start:stop],
// if the number sits in a row of a prose table with a header.
func (s *scanner) proseColumn(start, stop int) (proseCol, bool) {
	t := &s.ptab
	abs := s.base + start
	// A table cell is short, so a row shows a tab or a gap within a cell's
	// width of the number, or the number opens the line. Checking that
	// first keeps ordinary prose lines from being classified at all.
	if start > s.lo && s.b[start-1] != '\n' {
		if !gapIn(s.b[max(s.lo, start-maxCellBytes):min(len(s.b), stop+8)]) {
			return proseCol{}, false
		}
	}
	if t.lineKind == 0 || abs < t.lineStart || abs >= t.lineEnd {
		ls := s.lineStart(start)
		if ls < 0 {
			return proseCol{}, false
		}
		le := min(len(s.b), ls+maxProseLine)
		if nl := bytes.IndexByte(s.b[start:le], '\n'); nl >= 0 {
			le = start + nl
		}
		line := bytes.TrimSuffix(s.b[ls:le], []byte{'\r'})
		t.lineStart, t.lineEnd, t.lineKind = s.base+ls, s.base+ls+len(line), lineProse
		switch {
		case bytes.IndexByte(line, '\t') >= 0:
			t.lineKind = lineTabs
		case spaceAligned(line):
			t.lineKind = lineSpaced
		}
	}
	if t.lineKind == lineProse {
		return proseCol{}, false
	}
	ls, le := t.lineStart-s.base, t.lineEnd-s.base
	line := s.b[ls:le]
	tabs := t.lineKind == lineTabs
	next := s.base + nextLine(s.b, le)
	switch {
	case t.hdrEnd > 0 && t.tabs == tabs && s.base+ls > t.hdrEnd && s.rowsBetween(t.checked, ls, tabs):
		// the same table as the last number's (or a second header below it)
	case t.noHdr > 0 && t.noHdrTabs == tabs && s.rowsBetween(t.noHdr, ls, tabs):
		// A table already searched without a header: only the rows since
		// hold a new one, so a long headerless table is walked once.
		if t.hdrEnd < t.noHdr {
			t.noHdr = next
			return proseCol{}, false
		}
	case !s.findProseHeader(ls, tabs):
		t.noHdr, t.noHdrTabs = next, tabs
		return proseCol{}, false
	}
	t.checked = next
	return t.column(s.b[ls:start], line)
}

// gapIn reports a tab, two spaces or a 全角スペース in w, in one pass.
func gapIn(w []byte) bool {
	for i := 0; i+1 < len(w); i++ {
		switch w[i] {
		case '\t':
			return true
		case ' ':
			if w[i+1] == ' ' {
				return true
			}
		case 0xE3:
			if w[i+1] == 0x80 && i+2 < len(w) && w[i+2] == 0x80 {
				return true
			}
		}
	}
	return len(w) > 0 && w[len(w)-1] == '\t'
}

// nextLine returns the start of the line after the one ending at b[le]
// (at its '\r' or '\n').
func nextLine(b []byte, le int) int {
	if le < len(b) && b[le] == '\r' {
		le++
	}
	if le < len(b) && b[le] == '\n' {
		le++
	}
	return le
}

// lineStart returns the start of the line holding b[p], or -1 when it lies
// beyond what may be read.
func (s *scanner) lineStart(p int) int {
	lo := max(s.lo, p-maxProseLine)
	if i := bytes.LastIndexByte(s.b[lo:p], '\n'); i >= 0 {
		return lo + i + 1
	}
	if lo == s.lo && s.base == 0 {
		return lo
	}
	return -1
}

// rowsBetween reports whether every line from the absolute offset abs up to
// b[ls] is a table row of the same kind.
func (s *scanner) rowsBetween(abs, ls int, tabs bool) bool {
	p := abs - s.base
	switch {
	case p >= ls:
		return true // this line was verified already (another number on it)
	case p < s.lo:
		return false
	}
	for p < ls {
		nl := bytes.IndexByte(s.b[p:ls], '\n')
		if nl < 0 {
			return false
		}
		row := s.b[p : p+nl]
		if !tableRow(row, tabs) {
			return false
		}
		// A second header below the first names the columns from here on.
		if cols, ok := s.proseHeader(row, tabs); ok && strictHeader(cols) {
			t := &s.ptab
			t.cols, t.hdrEnd, t.tabs = cols, s.base+p+nl, tabs
		}
		p += nl + 1
	}
	return true
}

// findProseHeader walks up from the line at b[ls] through table rows of the
// same kind and caches the first header line met.
func (s *scanner) findProseHeader(ls int, tabs bool) bool {
	stop := max(s.lo, ls-maxProseHeaderBack)
	p := ls
	for p > stop {
		prevEnd := p - 1 // the '\n' ending the line above
		i := bytes.LastIndexByte(s.b[stop:prevEnd], '\n')
		q := stop + i + 1
		if i < 0 {
			if stop != s.lo || s.base != 0 {
				return false
			}
			q = stop
		}
		line := s.b[q:prevEnd]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !tableRow(line, tabs) {
			return false
		}
		if cols, ok := s.proseHeader(line, tabs); ok {
			t := &s.ptab
			t.hdrEnd, t.checked, t.tabs, t.cols = s.base+prevEnd, s.base+prevEnd+1, tabs, cols
			return true
		}
		p = q
	}
	return false
}

// tableRow reports whether line belongs to a table of the kind given.
func tableRow(line []byte, tabs bool) bool {
	if tabs {
		return bytes.IndexByte(line, '\t') >= 0
	}
	return spaceAligned(line)
}

// spaceAligned reports a line with a gap of two or more spaces or a
// 全角スペース between two non-space characters.
func spaceAligned(line []byte) bool {
	// Most prose lines have neither; the searches are vectorised.
	if bytes.Index(line, twoSpaces) < 0 && bytes.Index(line, ideographicSpace) < 0 {
		return false
	}
	seen := false
	for i := 0; i < len(line); {
		if n := gapAt(line, i); n > 0 {
			j := i + n
			for j < len(line) {
				m := gapAt(line, j)
				if m == 0 && line[j] != ' ' {
					break
				}
				j += max(m, 1)
			}
			if seen && j < len(line) && line[j] != '\r' {
				return true
			}
			i = j
			continue
		}
		if line[i] != ' ' && line[i] != '\r' {
			seen = true
		}
		i++
	}
	return false
}

// gapAt returns the byte length of a cell gap starting at line[i]: a tab,
// two spaces, or a 全角スペース; 0 if none.
func gapAt(line []byte, i int) int {
	switch {
	case line[i] == '\t':
		return 1
	case line[i] == ' ' && i+1 < len(line) && line[i+1] == ' ':
		return 2
	case ideographicSpaceAt(line, i):
		return 3
	}
	return 0
}

// proseCells yields the cells of a prose table row with the display column
// where each starts. Tab-separated rows split at every tab, so that empty
// cells keep the columns in place; space-aligned rows split at gaps.
func proseCells(line []byte, tabs bool, yield func(cell []byte, at int) bool) {
	if tabs {
		for {
			i := bytes.IndexByte(line, '\t')
			if i < 0 {
				yield(trimCell(line), 0)
				return
			}
			if !yield(trimCell(line[:i]), 0) {
				return
			}
			line = line[i+1:]
		}
	}
	col, i := 0, 0
	for i < len(line) {
		// skip the gap
		for i < len(line) {
			if tabs {
				if line[i] != '\t' && line[i] != ' ' {
					break
				}
			} else if gapAt(line, i) == 0 && line[i] != ' ' {
				break
			}
			n := 1
			if ideographicSpaceAt(line, i) {
				n, col = 3, col+2
			} else {
				col++
			}
			i += n
		}
		if i >= len(line) {
			return
		}
		cs, at := i, col
		for i < len(line) {
			if tabs && line[i] == '\t' || !tabs && gapAt(line, i) > 0 {
				break
			}
			r, n := utf8.DecodeRune(line[i:])
			col += runeWidth(r)
			i += n
		}
		if !yield(trimCell(line[cs:i]), at) {
			return
		}
	}
}

// runeWidth is the display width of r in a monospaced font: two for wide
// East Asian characters.
func runeWidth(r rune) int {
	switch {
	case r < 0x1100, r >= 0xFF61 && r <= 0xFF9F:
		return 1
	}
	return 2
}

// proseHeader parses line as a header: two or more short cells without
// numbers, at least one of them a known column name.
func (s *scanner) proseHeader(line []byte, tabs bool) ([]proseCol, bool) {
	var cols []proseCol
	known, ok := 0, true
	proseCells(line, tabs, func(cell []byte, at int) bool {
		if digitCount(cell) >= 3 || utf8.RuneCount(cell) > maxHeaderCellRunes {
			ok = false
			return false
		}
		m := s.e.ctx.best(cell, 0, 0, len(cell))
		if m.cat != catNone {
			known++
		}
		cols = append(cols, proseCol{cat: m.cat, word: m.word, at: at})
		return true
	})
	if !ok || known == 0 || len(cols) < 2 {
		return nil, false
	}
	return cols, true
}

// strictHeader: a header met below table rows needs two column names.
func strictHeader(cols []proseCol) bool {
	n := 0
	for _, c := range cols {
		if c.cat != catNone {
			n++
		}
	}
	return n >= 2 && n*2 >= len(cols)
}

// column maps the number starting after prefix (the row's text before it)
// to a header cell: by cell index when the row has as many cells as the
// header, else by display column.
func (t *proseTable) column(prefix, line []byte) (proseCol, bool) {
	if t.tabs {
		idx := bytes.Count(prefix, []byte{'\t'})
		if idx < len(t.cols) {
			return t.cols[idx], true
		}
		return proseCol{}, false
	}
	idx, n := -1, 0
	at := 0
	proseCells(prefix, t.tabs, func(_ []byte, a int) bool { idx++; at = a; return true })
	// The number starts a new cell when a gap precedes it.
	if len(prefix) == 0 || endsWithGap(prefix, t.tabs) {
		idx++
		at = displayWidth(prefix)
	}
	proseCells(line, t.tabs, func([]byte, int) bool { n++; return true })
	if n == len(t.cols) {
		if idx >= 0 && idx < len(t.cols) {
			return t.cols[idx], true
		}
		return proseCol{}, false
	}
	best := -1
	for i, c := range t.cols {
		if c.at <= at+1 {
			best = i
		}
	}
	if best < 0 {
		return proseCol{}, false
	}
	return t.cols[best], true
}

func endsWithGap(b []byte, tabs bool) bool {
	n := len(b)
	switch {
	case n >= 1 && b[n-1] == '\t':
		return true
	case tabs:
		return false
	case n >= 2 && b[n-1] == ' ' && b[n-2] == ' ':
		return true
	case n >= 3 && ideographicSpaceAt(b, n-3):
		return true
	}
	return false
}

func displayWidth(b []byte) int {
	w := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		w += runeWidth(r)
		b = b[n:]
	}
	return w
}
