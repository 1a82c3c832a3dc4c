package edm

import (
	"bytes"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFanout is the number of records above which a value is not selective
// (a company switchboard, a shared mailbox): such a value never brings a
// record in by itself; it only adds a field to records that another,
// selective value of the same unit brought in.
const maxFanout = 64

// Match is the set of records one text (or several, merged) contained,
// each with the fields seen together. It holds record numbers and field
// masks, never values.
type Match struct {
	fields []string
	recs   map[uint32]uint16
}

// Records is the number of distinct records matched.
func (m *Match) Records() int {
	if m == nil {
		return 0
	}
	return len(m.recs)
}

// Merge adds o's records to m (the text and HTML versions of one body).
func (m *Match) Merge(o *Match) {
	if o == nil {
		return
	}
	for r, f := range o.recs {
		m.recs[r] |= f
	}
}

// Samples describes the matches without values: the combinations of field
// names seen, most frequent first, with their record counts
// ("name+phone (12)"), at most max of them.
func (m *Match) Samples(max int) []string {
	if m == nil {
		return nil
	}
	byMask := map[uint16]int{}
	for _, f := range m.recs {
		byMask[f]++
	}
	masks := make([]uint16, 0, len(byMask))
	for k := range byMask {
		masks = append(masks, k)
	}
	sort.Slice(masks, func(i, j int) bool {
		if byMask[masks[i]] != byMask[masks[j]] {
			return byMask[masks[i]] > byMask[masks[j]]
		}
		return masks[i] < masks[j]
	})
	var out []string
	for _, k := range masks[:min(max, len(masks))] {
		var names []string
		for i, f := range m.fields {
			if k&(1<<i) != 0 {
				names = append(names, f)
			}
		}
		out = append(out, fmt.Sprintf("%s (%d)", strings.Join(names, "+"), byMask[k]))
	}
	return out
}

// Match finds the index's records in text. Tabular text (CSV, TSV,
// spreadsheet rows) is read one row at a time, other text one paragraph
// (lines up to a blank line) at a time; a record counts when two distinct
// values of it occur in the same row or paragraph.
func (ix *Index) Match(text []byte, tabular bool) *Match {
	st := ix.NewStream(tabular)
	st.Write(text)
	return st.Match()
}

// Stream is Match over a text given piece by piece, as a part is decoded:
// complete lines are matched in the caller's buffer, only a line cut by a
// piece's end is copied, so the text need not be held whole. Writing the
// pieces of a text and calling Match gives what Index.Match of the whole
// text gives. A Stream is not safe for concurrent use.
type Stream struct {
	s       *scanner
	tabular bool
}

// NewStream starts matching one text.
func (ix *Index) NewStream(tabular bool) *Stream {
	return &Stream{s: ix.scanners.Get().(*scanner), tabular: tabular}
}

// Write matches the complete lines of p and keeps the rest for the next
// piece. It never fails.
func (st *Stream) Write(p []byte) (int, error) {
	n, s := len(p), st.s
	if len(s.carry) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.carry = append(s.carry, p...)
			return n, nil
		}
		s.carry = append(s.carry, p[:i]...)
		st.line(s.carry)
		s.carry = s.carry[:0]
		p = p[i+1:]
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		st.line(p[:i])
		p = p[i+1:]
	}
	s.carry = append(s.carry, p...)
	return n, nil
}

func (st *Stream) line(line []byte) {
	s := st.s
	if st.tabular {
		s.row(line)
		s.flush()
		return
	}
	if len(bytes.TrimSpace(line)) == 0 {
		s.flush()
		return
	}
	s.prose(line, digitCount(line))
}

// Match ends the text and returns its records; the Stream is not used
// after.
func (st *Stream) Match() *Match {
	s := st.s
	if len(s.carry) > 0 {
		st.line(s.carry)
	}
	s.flush()
	m := &Match{fields: s.ix.info.Fields, recs: s.recs}
	if m.recs == nil {
		m.recs = map[uint32]uint16{}
	}
	st.s = nil
	s.release()
	return m
}

type hit struct {
	n    uint8 // distinct values of the record seen in the unit (saturating)
	mask uint16
}

// scanner accumulates one unit (row or paragraph) at a time. Scanners are
// pooled per index with their buffers and keyed hash state, so that a
// short text costs no allocation but its Match.
type scanner struct {
	ix    *Index
	h     *hasher
	seen  valueSet // SipHashes of the unit's values
	cell  []byte   // the cell being read (row), whose whole value is added already
	hits  map[uint32]hit
	big   []bigRun          // non-selective values seen in the unit
	recs  map[uint32]uint16 // the records found so far (nil: none)
	buf   []byte            // the normalised token
	text  [maxCell]byte     // an ASCII cell's text form (readCell)
	phone [16]byte          // an ASCII cell's phone digits (readCell)
	carry []byte            // a line cut by the end of a piece (Stream)
	// the unit's candidates whose filter probe is pending (drain)
	pend    []pending
	pendBuf []byte
	passed  int    // the unit's candidates the filter let through
	held    []byte // the first of them, looked up once a second passes
}

func newScanner(ix *Index) *scanner {
	return &scanner{ix: ix, h: newHasher(ix.key), hits: map[uint32]hit{}}
}

// maxPooledCarry bounds the line and value buffers a pooled scanner keeps.
const maxPooledCarry = 64 << 10

// release returns s to its index's pool, emptied.
func (s *scanner) release() {
	s.recs, s.cell = nil, nil
	s.carry = s.carry[:0]
	if cap(s.carry) > maxPooledCarry {
		s.carry = nil
	}
	s.seen.reset()
	s.clearHits()
	s.big = s.big[:0]
	s.pend, s.pendBuf = s.pend[:0], s.pendBuf[:0]
	s.passed = 0
	if cap(s.pendBuf) > maxPooledCarry || cap(s.held) > maxPooledCarry { // a huge token
		s.pendBuf, s.held = nil, nil
	}
	s.ix.scanners.Put(s)
}

func (s *scanner) add(k Kind, tok []byte) {
	var shape uint8
	s.buf, shape = appendNormCapped(s.buf[:0], k, tok, s.ix.caps)
	s.addNorm(s.buf, shape)
}

// addNorm looks up v, a normalised value of shape shape. The filter is
// probed when the unit's candidates are drained: the probe's cache line is
// fetched now, and the rest of the row is read while it arrives.
func (s *scanner) addNorm(v []byte, shape uint8) {
	if len(v) == 0 || s.ix.shape != nil && !s.ix.shape.has(shape, len(v)) {
		return
	}
	// A value repeated in the unit (a cell and the same name joined from
	// its tokens) is looked at once: the keyed SipHash, which the filter
	// needs anyway, tells repeats apart before the filter's cache miss
	// and the HMAC.
	sh := siphash(s.ix.sip, v)
	if !s.seen.add(sh) {
		return
	}
	s.ix.bloom.fetch(sh)
	s.pend = append(s.pend, pending{sh: sh, off: len(s.pendBuf), n: len(v)})
	s.pendBuf = append(s.pendBuf, v...)
	if len(s.pend) >= maxPending {
		s.drain()
	}
}

// pending is a candidate of the unit whose filter block is on its way:
// its SipHash and its value at pendBuf[off:off+n].
type pending struct {
	sh     uint64
	off, n int
}

// maxPending bounds the candidates held back (a long paragraph): enough
// for every candidate of a row, a few KB of values.
const maxPending = 64

// drain probes the filter for the pending candidates and looks up those
// it does not turn away. A record counts only with two distinct values in
// the unit, so a unit with a single candidate past the filter has none:
// that candidate is held, and its HMAC and lookup are made only once a
// second one comes (most rows of a list that is not the company's own
// have one, a common name).
func (s *scanner) drain() {
	for _, p := range s.pend {
		if !s.ix.bloom.has(p.sh) {
			continue
		}
		v := s.pendBuf[p.off : p.off+p.n]
		switch s.passed++; s.passed {
		case 1:
			s.held = append(s.held[:0], v...)
		case 2:
			s.lookup(s.held)
			s.lookup(v)
		default:
			s.lookup(v)
		}
	}
	s.pend, s.pendBuf = s.pend[:0], s.pendBuf[:0]
}

// lookup adds the records holding value v to the unit's hits.
func (s *scanner) lookup(v []byte) {
	h := s.h.sumBytes(v)
	lo, hi := s.ix.runFanout(h)
	switch {
	case hi < 0:
		s.big = append(s.big, bigRun{h: h})
	case lo == hi:
	default:
		prev := uint32(0)
		for i := lo; i < hi; i++ {
			v := s.ix.val(i)
			r := v >> 4
			ht := s.hits[r]
			if r != prev && ht.n < 255 {
				ht.n++
			}
			ht.mask |= 1 << (v & 0xF)
			s.hits[r] = ht
			prev = r
		}
	}
}

// bigRun is a value of more than maxFanout records; its entries are
// found again only if the unit has records for it to join.
type bigRun struct{ h uint64 }

// flush ends a unit: non-selective values join the records already hit,
// and records with two or more values are kept.
func (s *scanner) flush() {
	s.drain()
	for _, b := range s.big {
		if len(s.hits) == 0 {
			break // no record to join: the run's end is not wanted
		}
		blo, bhi := s.ix.run(b.h)
		for r, ht := range s.hits {
			lo := blo + sort.Search(bhi-blo, func(i int) bool { return s.ix.val(blo+i)>>4 >= r })
			found := false
			for i := lo; i < bhi && s.ix.val(i)>>4 == r; i++ {
				ht.mask |= 1 << (s.ix.val(i) & 0xF)
				found = true
			}
			if found && ht.n < 255 {
				ht.n++
			}
			s.hits[r] = ht
		}
	}
	for r, ht := range s.hits {
		if ht.n >= 2 && bits.OnesCount16(ht.mask) >= 2 {
			if s.recs == nil {
				s.recs = map[uint32]uint16{}
			}
			s.recs[r] |= ht.mask
		}
	}
	s.seen.reset()
	s.clearHits()
	s.big = s.big[:0]
	s.passed = 0
}

// clearHits empties the unit's hits. Clearing costs the map's capacity,
// not its length: a map grown by a long paragraph is dropped rather than
// cleared for every row that follows (in this text or the pooled
// scanner's next).
func (s *scanner) clearHits() {
	if len(s.hits) > 1024 {
		s.hits = map[uint32]hit{}
		return
	}
	clear(s.hits)
}

// row reads one CSV/TSV row: every cell as a whole value, and the tokens
// inside it.
func (s *scanner) row(line []byte) {
	sep := byte(',')
	if bytes.IndexByte(line, '\t') >= 0 {
		sep = '\t'
	}
	for len(line) > 0 {
		i := bytes.IndexByte(line, sep)
		cell := line
		if i >= 0 {
			cell, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		cell = trimCell(cell)
		if len(cell) == 0 || len(cell) > maxCell {
			continue
		}
		st := s.readCell(cell)
		digits := st.digits
		if st.ascii {
			// an ASCII cell's text and phone forms come from the one
			// pass; one whose shape and length no value has (a postal
			// code, a phone written out, a number) is not looked up
			s.addNorm(st.text, st.shape)
			if !st.allDig { // a cell of digits alone was just added as the same value
				s.addNorm(st.phoneForm, shapeDigit)
			}
		} else {
			// the cell as a whole and the tokens inside it ("山田 太郎様",
			// "TEL 03-...") in one pass
			s.cell = cell
			s.proseCell(cell)
			s.cell = nil
			continue
		}
		// tokens inside the cell ("C 0001", "TEL 03-..."); a token that is
		// the whole cell was added just above
		if !st.word { // an e-mail address, a phone, an id: nothing inside
			s.cell = cell
			s.prose(cell, digits)
			s.cell = nil
		}
	}
}

// addPart adds a token found inside a line, unless it is the whole cell
// that row added already.
func (s *scanner) addPart(k Kind, t []byte) {
	if !s.whole(t) {
		s.add(k, t)
	}
}

// whole reports whether t is the entire cell being read.
func (s *scanner) whole(t []byte) bool {
	return len(t) > 0 && len(t) == len(s.cell) && &t[0] == &s.cell[0]
}

// valueSet is a set of 64-bit hashes: a short slice for the few values of
// a row, a map once a long paragraph holds many.
type valueSet struct {
	small []uint64
	big   map[uint64]struct{}
}

const valueSetSmall = 48

// add inserts h and reports whether it was new.
func (v *valueSet) add(h uint64) bool {
	if v.big != nil {
		if _, ok := v.big[h]; ok {
			return false
		}
		v.big[h] = struct{}{}
		return true
	}
	for _, x := range v.small {
		if x == h {
			return false
		}
	}
	if len(v.small) < valueSetSmall {
		v.small = append(v.small, h)
		return true
	}
	v.big = make(map[uint64]struct{}, 2*valueSetSmall)
	for _, x := range v.small {
		v.big[x] = struct{}{}
	}
	v.big[h] = struct{}{}
	return true
}

func (v *valueSet) reset() {
	v.small = v.small[:0]
	v.big = nil
}

// Rune classes for tokenising prose.
const (
	clsOther = iota
	clsSpace
	clsWord // ASCII letters, digits and . _ % + - @
	clsHan
	clsKata
	clsHira
)

func class(r rune) int {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		r -= 0xFEE0
	}
	switch {
	case r < utf8.RuneSelf:
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '_', r == '%', r == '+', r == '-', r == '@':
			return clsWord
		case r == ' ', r == '\t', r == '\r':
			return clsSpace
		}
		return clsOther
	case r == 0x3000:
		return clsSpace
	case r >= 0x30A1 && r <= 0x30FA, r == 0x30FC, r >= 0xFF66 && r <= 0xFF9F:
		return clsKata
	case r >= 0x3041 && r <= 0x3096:
		return clsHira
	case r >= 0x4E00 && r <= 0x9FFF, r == '々' || r == '〆' || r == 'ヶ' || unicode.Is(unicode.Han, r):
		return clsHan
	}
	return clsOther
}

// classAt is the class of the rune at line[i], its length, and whether it
// is odd (see span). ASCII is read by table, and a unified kanji or a
// hiragana (the runes of most names and addresses) from its bytes,
// without decoding.
func classAt(line []byte, i int) (c, n int, odd bool) {
	switch b0 := line[i]; {
	case b0 < utf8.RuneSelf:
		return int(asciiClass[b0]), 1, false
	case i+2 < len(line) && isKanjiOrHiragana(b0, line[i+1], line[i+2]):
		if b0 >= 0xE4 {
			return clsHan, 3, false
		}
		return clsHira, 3, false
	}
	r, n := decodeRune(line[i:])
	c = class(r)
	return c, n, c == clsHan && (r < 0x4E00 || r > 0x9FFF) || c == clsKata && r > 0x30FC
}

// asciiClass is class of each ASCII rune.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range utf8.RuneSelf {
		t[c] = uint8(class(rune(c)))
	}
	return t
}()

type span struct {
	cls        int
	start, end int
	runes      int
	// odd: a rune of the span is not one normalisation copies or folds
	// byte for byte (a half-width kana, a kanji outside U+4E00–9FFF)
	odd bool
}

// honorifics dropped from the end of a kanji run ("山田太郎様").
var honorifics = []string{"様", "殿", "氏"}

// prose hashes the candidate tokens of one line: e-mail addresses, ids
// (words with a digit), phone numbers, capitalised words and pairs of them,
// and runs of kanji, katakana or hiragana, alone and joined across one space
// ("山田 太郎"). digits is digitCount(line), which the caller has counted.
func (s *scanner) prose(line []byte, digits int) {
	if digits >= minPhoneDigits { // most names and addresses: no rune decoded
		s.phones(line)
	}
	var prev, prev2 span // the last two spans
	cur := span{cls: -1}
	emit := func(sp span) {
		if sp.cls < 0 {
			return
		}
		s.token(line, sp, prev, prev2)
		prev2, prev = prev, sp
	}
	for i := 0; i < len(line); {
		c, n, odd := classAt(line, i)
		if c != cur.cls {
			emit(cur)
			cur = span{cls: c, start: i}
		}
		cur.end = i + n
		cur.runes++
		if odd {
			cur.odd = true
		}
		i += n
	}
	emit(cur)
}

// proseCell is prose over a non-ASCII cell that also counts its digits
// (as digitCount) and writes its text form (Normalize(KindText)) in the
// same pass, and looks up the cell as text and as a phone: the cell is not
// read once more to count or to normalise it. A cell holding a rune that
// normalisation does not fold by itself (a half-width kana, a combining
// mark, invalid UTF-8: appendNormCapped's NFKC path) is normalised apart,
// as before. It returns the digits counted.
func (s *scanner) proseCell(line []byte) (digits int) {
	text, shape, simple := s.text[:0], uint8(0), true // text holds len(line) bytes: no rune's form is longer
	var prev, prev2 span
	cur := span{cls: -1}
	emit := func(sp span) {
		if sp.cls < 0 {
			return
		}
		s.token(line, sp, prev, prev2)
		prev2, prev = prev, sp
	}
	for i := 0; i < len(line); {
		c, n, odd := classAt(line, i)
		switch {
		case n == 3 && (c == clsHan && !odd || c == clsHira): // most runes of a name: copied
			if simple {
				text = append(text, line[i], line[i+1], line[i+2])
				shape |= hanOrHira[c&7]
			}
		case n == 1 && line[i] < utf8.RuneSelf:
			b := line[i]
			digits += int(cellByte[b] & shapeDigit)
			if a := asciiText[b]; simple && a.shape != 0 {
				text = append(text, a.b)
				shape |= a.shape
			}
		default:
			if n == 3 && line[i] == 0xEF && line[i+1] == 0xBC && line[i+2] >= 0x90 && line[i+2] <= 0x99 {
				digits++ // a full-width digit
			}
			if simple {
				text, shape, simple = appendCellRune(text, shape, line[i:i+n], c, odd)
			}
		}
		if c != cur.cls {
			emit(cur)
			cur = span{cls: c, start: i}
		}
		cur.end = i + n
		cur.runes++
		if odd {
			cur.odd = true
		}
		i += n
	}
	emit(cur)
	if simple {
		s.addNorm(text, shape)
	} else {
		s.add(KindText, line)
	}
	if digits >= minPhoneDigits {
		s.add(KindPhone, line)
		s.phones(line)
	}
	return digits
}

// hanOrHira is the shape of a kanji and of a hiragana by class.
var hanOrHira = [8]uint8{clsHan: shapeHan, clsHira: shapeHira}

// appendCellRune appends the text form of rune r (n bytes, of class c and
// oddness odd as classAt reads them) as appendNormCapped writes it without
// its NFKC path, and adds its shape; ok is false for a rune that needs
// that path.
func appendCellRune(dst []byte, shape uint8, r []byte, c int, odd bool) (_ []byte, _ uint8, ok bool) {
	if len(r) == 1 {
		if r[0] >= utf8.RuneSelf { // invalid UTF-8
			return dst, shape, false
		}
		if a := asciiText[r[0]]; a.shape != 0 {
			dst = append(dst, a.b)
			shape |= a.shape
		}
		return dst, shape, true
	}
	if len(r) != 3 {
		return dst, shape, false
	}
	switch {
	case c == clsHan && !odd: // U+4E00–9FFF
		return append(dst, r...), shape | shapeHan, true
	case c == clsHira: // U+3041–3096
		return append(dst, r...), shape | shapeHira, true
	}
	switch u := rune(r[0]&0x0F)<<12 | rune(r[1]&0x3F)<<6 | rune(r[2]&0x3F); {
	case u >= 0xFF01 && u <= 0xFF5E: // full-width ASCII
		a := asciiText[u-0xFEE0]
		return append(dst, a.b), shape | a.shape, true
	case u == 0x3000: // removed as white space
		return dst, shape, true
	case u >= 0x30A1 && u <= 0x30F6: // katakana folded to hiragana
		return utf8.AppendRune(dst, u-0x60), shape | shapeHira, true
	case u >= 0x30F7 && u <= 0x30FA || u == 0x30FC:
		return append(dst, r...), shape | shapeHira, true
	}
	return dst, shape, false
}

// token hashes span sp; prev2, prev are the spans before it.
func (s *scanner) token(line []byte, sp, prev, prev2 span) {
	t := line[sp.start:sp.end]
	joined := prev.cls == clsSpace && prev.runes == 1 && prev2.cls == sp.cls
	switch sp.cls {
	case clsWord:
		t = bytes.Trim(t, ".-_+")
		switch {
		case bytes.IndexByte(t, '@') > 0:
			s.addPart(KindText, t)
		case len(t) >= 3 && bytes.ContainsAny(t, "0123456789"):
			s.addPart(KindText, t)
		case len(t) >= 2 && t[0] >= 'A' && t[0] <= 'Z':
			s.addPart(KindText, t)
			if joined && line[prev2.start] >= 'A' && line[prev2.start] <= 'Z' {
				s.addPart(KindText, line[prev2.start:sp.end])
			}
		}
	case clsHan, clsKata, clsHira:
		if sp.runes < 2 || sp.cls == clsHira && sp.runes > 12 {
			return
		}
		// A span of kanji (U+4E00–9FFF) or kana normalises to as many
		// bytes of one shape: one the index has no value of needs no
		// normalising (two kanji of an address, a sentence).
		shp := uint8(shapeHira)
		if sp.cls == clsHan {
			shp = shapeHan
		}
		fits := func(n int) bool { return s.ix.shape == nil || s.ix.shape.has(shp, n) }
		space := prev.end - prev.start // removed by normalisation
		joinedOdd := sp.odd || prev2.odd
		if sp.odd || fits(len(t)) {
			s.addPart(KindText, t)
		}
		if joined && (joinedOdd || fits(sp.end-prev2.start-space)) {
			s.addPart(KindText, line[prev2.start:sp.end])
		}
		if sp.cls == clsHan && sp.runes > 2 && len(t) >= 3 && t[len(t)-3] == 0xE6 { // 様殿氏 are E6 xx xx
			for _, h := range honorifics {
				if bytes.HasSuffix(t, []byte(h)) {
					if sp.odd || fits(len(t)-len(h)) {
						s.add(KindText, t[:len(t)-len(h)])
					}
					if joined && (joinedOdd || fits(sp.end-len(h)-prev2.start-space)) {
						s.addPart(KindText, line[prev2.start:sp.end-len(h)])
					}
				}
			}
		}
	}
}

// phones hashes every run of digits and phone punctuation holding 9 to 15
// digits; a run holding two numbers apart is tried piece by piece.
func (s *scanner) phones(line []byte) {
	for i := 0; i < len(line); {
		r, n := decodeRune(line[i:])
		if !isDigit(r) {
			i += n
			continue
		}
		start, end := i, i+n
		if start > 0 && line[start-1] == '+' { // international form: +81 ...
			start--
		} else if start >= 3 && string(line[start-3:start]) == "＋" {
			start -= 3
		}
		digits := 0
		for j := i; j < len(line); {
			r, n := decodeRune(line[j:])
			if isDigit(r) {
				digits++
				end = j + n
			} else if !isPhonePunct(foldFW(r)) {
				break
			}
			j += n
		}
		i = end
		if digits < minPhoneDigits {
			continue
		}
		run := line[start:end]
		if digits <= maxPhoneDigits {
			s.addPart(KindPhone, run)
		}
		if bytes.ContainsAny(run, " \u3000") {
			for _, p := range bytes.Fields(bytes.ReplaceAll(run, []byte("\u3000"), []byte(" "))) {
				s.add(KindPhone, p)
			}
		}
	}
}

func foldFW(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		return r - 0xFEE0
	}
	return r
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// Without removes the records holding one of values, normalised as text:
// given the recipients' addresses, a customer's own record in a mail to
// that customer is not counted.
func (m *Match) Without(ix *Index, values []string) {
	if m == nil || len(m.recs) == 0 {
		return
	}
	h := ix.pool.Get().(*hasher)
	defer ix.pool.Put(h)
	for _, v := range values {
		n := Normalize(KindText, v)
		if n == "" {
			continue
		}
		lo, hi := ix.run(h.sum(n))
		for i := lo; i < hi; i++ {
			delete(m.recs, ix.val(i)>>4)
		}
	}
}

// decodeRune is utf8.DecodeRune with the three-byte sequences of kana,
// kanji and full-width forms (lead bytes E1–EC, EE–EF, where every
// continuation byte is valid) decoded inline: the matcher reads each rune
// of a list several times.
func decodeRune(b []byte) (rune, int) {
	if len(b) > 0 && b[0] < utf8.RuneSelf {
		return rune(b[0]), 1
	}
	if len(b) >= 3 && (b[0] >= 0xE1 && b[0] <= 0xEC || b[0] >= 0xEE && b[0] <= 0xEF) &&
		b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 {
		return rune(b[0]&0x0F)<<12 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), 3
	}
	return utf8.DecodeRune(b)
}

// digitCount counts the ASCII and full-width digits of b (U+FF10–FF19 are
// EF BC 90–99 in UTF-8) without decoding it. A three-byte sequence (a
// kana, a kanji) is stepped over whole: its continuation bytes are
// neither a digit nor the lead of one.
func digitCount(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < utf8.RuneSelf {
			if c >= '0' && c <= '9' {
				n++
			}
			continue
		}
		if c >= 0xE0 && c <= 0xEF && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80 {
			if c == 0xEF && b[i+1] == 0xBC && b[i+2] >= 0x90 && b[i+2] <= 0x99 {
				n++
			}
			i += 2
		}
	}
	return n
}

// trimCell is bytes.Trim(bytes.TrimSpace(c), `"`), without decoding
// runes when the cell starts and ends with a character that is neither
// white space nor a quote (a kanji, a kana, a letter or a digit): most
// cells, which TrimSpace would otherwise decode at both ends.
func trimCell(c []byte) []byte {
	if n := len(c); n >= 3 && solidStart(c) && solidEnd(c) || n > 0 && n < 3 && c[0] > ' ' && c[0] < utf8.RuneSelf &&
		c[0] != '"' && c[n-1] > ' ' && c[n-1] < utf8.RuneSelf && c[n-1] != '"' {
		return c
	}
	return bytes.Trim(bytes.TrimSpace(c), `"`)
}

// solidStart reports that c (3 bytes or more) starts with a printable
// ASCII character other than '"', or a three-byte character of U+3001–
// U+9FFF (kana, kanji, CJK punctuation), none of which is white space.
func solidStart(c []byte) bool {
	if b := c[0]; b < utf8.RuneSelf {
		return b > ' ' && b != '"' && b != 0x7F
	}
	return threeByteSolid(c[0], c[1], c[2])
}

// solidEnd is solidStart for the end of c.
func solidEnd(c []byte) bool {
	n := len(c)
	if b := c[n-1]; b < utf8.RuneSelf {
		return b > ' ' && b != '"' && b != 0x7F
	}
	return threeByteSolid(c[n-3], c[n-2], c[n-1])
}

// threeByteSolid reports whether b0 b1 b2 is one character of U+3001–
// U+9FFF: lead byte E3–E9, two continuation bytes, not U+3000 (E3 80 80),
// the only white space in that range.
func threeByteSolid(b0, b1, b2 byte) bool {
	return b0 >= 0xE3 && b0 <= 0xE9 && b1&0xC0 == 0x80 && b2&0xC0 == 0x80 && !(b0 == 0xE3 && b1 == 0x80 && b2 == 0x80)
}

// maxCell is the longest cell row reads, in bytes.
const maxCell = 256

// cellForm is what readCell finds of a cell.
type cellForm struct {
	cellInfo
	text      []byte // ascii: Normalize(KindText) of the cell
	phoneForm []byte // ascii: Normalize(KindPhone) of the cell, nil if it has none
}

// readCell is cellStats for an ASCII cell (of another it says only that
// it is not ASCII) that also writes, for an ASCII cell, its text and
// phone forms (into s.text and s.phone, valid until the next cell), in the
// same pass: the two normalisations row would otherwise run over the cell.
// b is at most maxCell bytes.
func (s *scanner) readCell(b []byte) cellForm {
	var shape uint8
	textLen, digits, all := 0, 0, uint8(0xFF)
	text := s.text[:len(b)]
	for _, c := range b {
		if c >= utf8.RuneSelf { // not ASCII: proseCell reads the rest
			return cellForm{}
		}
		f := cellByte[c]
		shape |= f & cellShape
		text[textLen] = asciiText[c].b // kept only if it has a text form
		textLen += int(f >> cellTextBit & 1)
		s.phone[digits&15] = c // kept only if a digit
		digits += int(f & shapeDigit)
		all &= f
	}
	st := cellForm{cellInfo: cellInfo{digits: digits, allDig: len(b) > 0 && all&shapeDigit != 0, word: all&cellWord != 0,
		ascii: true, textLen: textLen, shape: shape}, text: text[:textLen]}
	// the phone form: digits and phone punctuation only, 9 to 15 digits,
	// +81 written as at home (as appendNormCapped)
	if all&cellPhone != 0 && digits >= minPhoneDigits && digits <= maxPhoneDigits {
		lead := b
		for len(lead) > 0 && (lead[0] == ' ' || lead[0] == '(') {
			lead = lead[1:]
		}
		if d := domestic(s.phone[:digits], len(lead) > 0 && lead[0] == '+'); len(d) >= minPhoneDigits {
			st.phoneForm = d
		}
	}
	return st
}

// cellStats reads a cell once for what row needs: its digits (as
// digitCount), whether it is ASCII digits only (its phone form is its text
// form), whether it is one run of word characters (ASCII letters, digits
// and . _ % + - @: prose would find no token in it but the cell), and,
// when it is ASCII, the shape and length of its text form.
func cellStats(b []byte) cellInfo {
	var shape uint8
	textLen, digits, all := 0, 0, uint8(0xFF)
	for i, c := range b {
		if c >= utf8.RuneSelf { // not ASCII: only the digits are still wanted
			return cellInfo{digits: digits + digitCount(b[i:])}
		}
		f := cellByte[c]
		shape |= f & cellShape
		textLen += int(f >> cellTextBit & 1)
		digits += int(f & shapeDigit)
		all &= f
	}
	return cellInfo{digits: digits, allDig: len(b) > 0 && all&shapeDigit != 0, word: all&cellWord != 0,
		ascii: true, textLen: textLen, shape: shape}
}

// cellByte holds, for each ASCII byte, what cellStats reads of it: the
// shape of its text form (shapeDigit for a digit, none for white space),
// whether it has a text form, and whether it is a word character.
var cellByte = func() (t [utf8.RuneSelf]uint8) {
	for c := range utf8.RuneSelf {
		a := asciiText[c]
		t[c] = a.shape
		if a.shape != 0 {
			t[c] |= 1 << cellTextBit
		}
		if wordByte[c] {
			t[c] |= cellWord
		}
		if c >= '0' && c <= '9' || isPhonePunct(rune(c)) {
			t[c] |= cellPhone
		}
	}
	return t
}()

const (
	cellShape   = shapeDigit | shapeLower | shapeAt | shapePunct
	cellTextBit = 4
	cellWord    = 1 << 5
	cellPhone   = 1 << 6 // a digit or phone punctuation
)

type cellInfo struct {
	digits              int
	allDig, word, ascii bool
	textLen             int   // ascii: the length of the text form
	shape               uint8 // ascii: the shape of the text form
}

var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '@'
	}
	return t
}()
