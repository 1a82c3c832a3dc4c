package detect

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kwTrie matches every dictionary in one pass over folded runes: ASCII is
// lower-cased (other letters too), full-width forms fold to ASCII and a run
// of spaces in the text matches one space of a term. It is a trie walked
// from each candidate start, which the scanner reaches through a first-rune
// bitmap: the cost on text without terms is one bitmap test per rune, the
// same as a single keyword list (measured in BenchmarkDictionaries).
type kwTrie struct {
	nodes []kwNode
	terms []kwTerm
	// rootASCII maps a lower-case ASCII first character to its node; 0 is
	// "none" because no edge leads back to the root.
	rootASCII [128]int32
	rootWide  *runeMap[int32]
}

type kwNode struct {
	edges []kwEdge
	ends  []int32 // indexes into terms ending here
}

type kwEdge struct {
	r  rune
	to int32
}

// kwTerm is one dictionary entry (or exclusion) as inserted.
type kwTerm struct {
	dict  int32  // index into Engine.dicts
	value string // canonical value reported (the term as configured)
	neg   bool   // an exclusion: the span is not a finding of dict
	// Boundary rules: wordStart/wordEnd need a rune that is not a letter or
	// digit before/after (mode word); asciiStart/asciiEnd need no ASCII
	// letter or digit there (a term starting or ending with one, any mode:
	// "Confidential" is not found in "confidentiality").
	wordStart, wordEnd, asciiStart, asciiEnd bool
}

func newKwTrie() *kwTrie {
	return &kwTrie{nodes: []kwNode{{}}, rootWide: newRuneMap[int32]()}
}

// add inserts the folded form of key for term t. Inserting the same key
// twice for one dictionary keeps the first, as an exclusion if either is.
func (t *kwTrie) add(key string, term kwTerm) {
	n := 0
	prevSpace := false
	for _, r := range key {
		r = foldRune(r)
		if r == ' ' || r == '\t' {
			if prevSpace {
				continue
			}
			r, prevSpace = ' ', true
		} else {
			prevSpace = false
		}
		n = t.child(n, foldCase(r))
	}
	if n == 0 {
		return
	}
	for _, e := range t.nodes[n].ends {
		if t.terms[e].dict == term.dict {
			// an exclusion equal to a term removes it
			t.terms[e].neg = t.terms[e].neg || term.neg
			return
		}
	}
	t.terms = append(t.terms, term)
	t.nodes[n].ends = append(t.nodes[n].ends, int32(len(t.terms)-1))
}

// finish sorts the edges and builds the root lookup tables; call it after
// the last add.
func (t *kwTrie) finish() {
	for i := range t.nodes {
		slices.SortFunc(t.nodes[i].edges, func(a, b kwEdge) int { return cmp.Compare(a.r, b.r) })
	}
	for _, e := range t.nodes[0].edges {
		if e.r < utf8.RuneSelf {
			t.rootASCII[e.r] = e.to
		} else {
			t.rootWide.add(e.r, e.to)
		}
	}
}

// foldCase lower-cases ASCII fast and other cased letters (Latin-1,
// Greek, Cyrillic) through unicode; CJK has no case.
func foldCase(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 0x20
		}
		return r
	}
	if r < 0x2000 {
		return unicode.ToLower(r)
	}
	return r
}

func (t *kwTrie) child(n int, r rune) int {
	for _, e := range t.nodes[n].edges {
		if e.r == r {
			return int(e.to)
		}
	}
	t.nodes = append(t.nodes, kwNode{})
	to := len(t.nodes) - 1
	t.nodes[n].edges = append(t.nodes[n].edges, kwEdge{r: r, to: int32(to)})
	return to
}

func (t *kwTrie) next(n int, r rune) int {
	if n == 0 {
		if r < utf8.RuneSelf {
			if to := t.rootASCII[r]; to != 0 {
				return int(to)
			}
		} else if to := t.rootWide.get(r); to != nil {
			return int(to[0])
		}
		return -1
	}
	edges := t.nodes[n].edges
	if len(edges) > 8 {
		// a node shared by many terms (株式会社… in a list of customers)
		k, ok := slices.BinarySearchFunc(edges, r, func(e kwEdge, r rune) int { return cmp.Compare(e.r, r) })
		if !ok {
			return -1
		}
		return int(edges[k].to)
	}
	for _, e := range edges {
		if e.r == r {
			return int(e.to)
		}
	}
	return -1
}

// firstRunes lists the runes a term may start with, in every case and
// width the matcher folds.
func (t *kwTrie) firstRunes() []rune {
	var rs []rune
	for _, e := range t.nodes[0].edges {
		rs = append(rs, e.r)
		switch {
		case e.r >= 'a' && e.r <= 'z':
			rs = append(rs, e.r-0x20, e.r+0xFEE0, e.r-0x20+0xFEE0)
		case e.r > ' ' && e.r < 0x7F:
			rs = append(rs, e.r+0xFEE0)
		case e.r >= utf8.RuneSelf && e.r < 0x2000:
			for _, v := range []rune{unicode.ToUpper(e.r), unicode.ToTitle(e.r)} {
				if v != e.r {
					rs = append(rs, v)
				}
			}
		}
	}
	return rs
}

// kwHit is a term accepted at the current start, ending at end.
type kwHit struct {
	term int32
	end  int
}

// matchKeyword matches the dictionaries at b[i]. For each dictionary the
// longest term wins; when that is an exclusion, the dictionary reports
// nothing here ("機密保持契約" excluded hides its "機密"). It returns the
// offset after the longest span matched, so an excluded phrase is skipped
// whole, and false when nothing matched.
func (s *scanner) matchKeyword(i, end int) (int, bool) {
	t := s.e.kw
	b := s.b
	hits := s.kwHits[:0]
	// The rune before the start is looked at only once a term ends: most
	// candidate starts (機 of 機能) end nowhere.
	prevKnown, prevASCII, prevWord := false, false, false
	n, p := 0, i
	for p < end {
		r, sz := fold(b, p, end)
		if r == ' ' || r == '\t' {
			nx := t.next(n, ' ')
			if nx < 0 {
				break
			}
			for p < end {
				r2, sz2 := fold(b, p, end)
				if r2 != ' ' && r2 != '\t' {
					break
				}
				p += sz2
			}
			n = nx
			continue
		}
		n = t.next(n, foldCase(r))
		if n < 0 {
			break
		}
		p += sz
		ends := t.nodes[n].ends
		if len(ends) == 0 {
			continue
		}
		if !prevKnown {
			prev, _ := foldLast(b, s.lo, i)
			prevKnown, prevASCII, prevWord = true, isASCIIAlnum(prev), prev >= 0 && isWordRune(prev)
		}
		var next rune = -1
		if p < end {
			next, _ = fold(b, p, end)
		}
		for _, ti := range ends {
			tm := &t.terms[ti]
			if tm.asciiStart && prevASCII || tm.wordStart && prevWord ||
				tm.asciiEnd && isASCIIAlnum(next) || tm.wordEnd && next >= 0 && isWordRune(next) {
				continue
			}
			hits = append(hits, kwHit{term: ti, end: p})
		}
	}
	s.kwHits = hits
	if len(hits) == 0 {
		return 0, false
	}
	after := 0
	// Hits come shortest first: a dictionary's last hit is its longest.
	for k := len(hits) - 1; k >= 0; k-- {
		h := hits[k]
		after = max(after, h.end)
		tm := &t.terms[h.term]
		longest := true
		for _, o := range hits[k+1:] {
			if t.terms[o.term].dict == tm.dict {
				longest = false
				break
			}
		}
		if longest && !tm.neg && !s.nearExclusion(tm.dict, i, h.end) {
			s.emitTerm(tm)
		}
	}
	return after, true
}

// emitTerm records a dictionary hit under the dictionary's value set.
func (s *scanner) emitTerm(tm *kwTerm) {
	s.val = append(s.val[:0], tm.value...)
	s.ev = evidence{kind: whyShape, word: -1} // a dictionary word is its own reason
	if tm.dict == 0 {
		s.emit(detKeyword, s.val)
		return
	}
	s.res.add(s.e.dictSet(int(tm.dict)), s.val, s.ev)
}

// isWordRune: letters and digits of any script, for word-mode boundaries.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// nearExclusion reports whether a phrase of dictionary dict's ExcludeNear
// list appears within NearWindow characters of the term at b[i:j], in the
// term's paragraph. It runs once per term found, so it folds only ASCII
// case into a scratch buffer (phrases are stored NFKC and lower-cased).
func (s *scanner) nearExclusion(dict int32, i, j int) bool {
	near := s.e.near[dict]
	if len(near) == 0 {
		return false
	}
	// The window is measured in bytes, three per character (Japanese
	// text), and aligned to runes: cheaper than decoding each rune.
	lo, hi := max(s.lo, i-3*NearWindow), min(len(s.b), j+3*NearWindow)
	for lo < i && !utf8.RuneStart(s.b[lo]) {
		lo++
	}
	for hi > j && hi < len(s.b) && !utf8.RuneStart(s.b[hi]) {
		hi--
	}
	// Keep the paragraph of the term: cut at the last break before it and
	// the first after it.
	lo += lastBreakEnd(s.b[lo:i])
	hi = j + firstBreakStart(s.b[j:hi])
	w := s.nearBuf[:0]
	for _, c := range s.b[lo:hi] {
		w = append(w, lowerASCII(c))
	}
	s.nearBuf = w
	// A filter on a hash of each position's first three bytes (one
	// Japanese character) keeps this one pass: a phrase is compared only
	// where one could start.
	keys := s.e.nearKeys[dict]
	for k := 0; k+2 < len(w); k++ {
		if !keys[nearKey(w[k:])] {
			continue
		}
		for _, p := range near {
			if bytes.HasPrefix(w[k:], p) {
				return true
			}
		}
	}
	return false
}

// paragraphBreak finds a blank line or a separator line (----, ====, ───)
// starting at the '\n' at b[k]; it returns the break's end, or -1.
func paragraphBreak(b []byte, k int) int {
	p := k + 1
	for p < len(b) {
		switch {
		case b[p] == ' ' || b[p] == '\t' || b[p] == '\r':
			p++
			continue
		case bytes.HasPrefix(b[p:], []byte("\u3000")):
			p += 3
			continue
		case b[p] == '\n':
			return p + 1
		}
		break
	}
	n, q := 0, p
	for q < len(b) {
		r, sz := utf8.DecodeRune(b[q:])
		if !strings.ContainsRune("-=_*─━＿＝－~～#", r) {
			break
		}
		n++
		q += sz
	}
	if n >= 4 {
		return q
	}
	return -1
}

func lastBreakEnd(b []byte) int {
	end := 0
	for k := 0; k < len(b); {
		nl := bytes.IndexByte(b[k:], '\n')
		if nl < 0 {
			break
		}
		k += nl
		if e := paragraphBreak(b, k); e >= 0 {
			end = e
		}
		k++
	}
	return end
}

func firstBreakStart(b []byte) int {
	for k := 0; k < len(b); {
		nl := bytes.IndexByte(b[k:], '\n')
		if nl < 0 {
			break
		}
		k += nl
		if paragraphBreak(b, k) >= 0 {
			return k
		}
		k++
	}
	return len(b)
}

// nearKey hashes the first three bytes of b (len(b) >= 3).
func nearKey(b []byte) uint16 {
	return uint16((uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])) * 0x9E3779B1 >> 16)
}
