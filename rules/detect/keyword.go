package detect

import (
	"strings"
	"unicode/utf8"
)

// kwTrie matches the confidentiality dictionary over folded runes: ASCII is
// lower-cased, full-width forms fold to ASCII and a run of spaces in the text
// matches one space of a keyword.
type kwTrie struct {
	nodes []kwNode
	words []string // canonical dictionary entries
	// rootASCII maps a lower-case ASCII first character to its node; 0 is
	// "none" because no edge leads back to the root.
	rootASCII [128]int32
	rootWide  *runeMap[int32]
}

type kwNode struct {
	edges []kwEdge
	word  int // 1 + index into words, 0 when no keyword ends here
	ascii bool
}

type kwEdge struct {
	r  rune
	to int32
}

func newKwTrie(words []string) *kwTrie {
	t := &kwTrie{nodes: []kwNode{{}}}
	for _, w := range words {
		w = strings.TrimSpace(w)
		n := 0
		ascii := true
		prevSpace := false
		for _, r := range w {
			r = foldRune(r)
			if r == ' ' || r == '\t' {
				if prevSpace {
					continue
				}
				r, prevSpace = ' ', true
			} else {
				prevSpace = false
			}
			if r >= utf8.RuneSelf {
				ascii = false
			}
			r = lowerRune(r)
			n = t.child(n, r)
		}
		if t.nodes[n].word == 0 {
			t.words = append(t.words, w)
			t.nodes[n].word = len(t.words)
			t.nodes[n].ascii = ascii
		}
	}
	t.rootWide = newRuneMap[int32]()
	for _, e := range t.nodes[0].edges {
		if e.r < utf8.RuneSelf {
			t.rootASCII[e.r] = e.to
		} else {
			t.rootWide.add(e.r, e.to)
		}
	}
	return t
}

func lowerRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 0x20
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
	for _, e := range t.nodes[n].edges {
		if e.r == r {
			return int(e.to)
		}
	}
	return -1
}

// firstRunes lists the runes a keyword may start with, in every case and
// width the matcher folds.
func (t *kwTrie) firstRunes() []rune {
	var rs []rune
	for _, e := range t.nodes[0].edges {
		rs = append(rs, e.r)
		if e.r >= 'a' && e.r <= 'z' {
			rs = append(rs, e.r-0x20, e.r+0xFEE0, e.r-0x20+0xFEE0)
		} else if e.r > ' ' && e.r < 0x7F {
			rs = append(rs, e.r+0xFEE0)
		}
	}
	return rs
}

// match returns the longest keyword starting at b[i] and the byte offset
// after it. ASCII keywords must stand as words.
func (t *kwTrie) match(b []byte, lo, i, end int) (word int, after int) {
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
		n = t.next(n, lowerRune(r))
		if n < 0 {
			break
		}
		p += sz
		if nd := &t.nodes[n]; nd.word != 0 && (!nd.ascii || t.wordEnd(b, p, end)) {
			word, after = nd.word, p
		}
	}
	if word != 0 && t.nodes[0].edges != nil {
		if r, _ := foldLast(b, lo, i); isASCIIAlnum(r) && t.asciiWord(word) {
			return 0, 0
		}
	}
	return word, after
}

func (t *kwTrie) asciiWord(word int) bool {
	w := t.words[word-1]
	return len(w) > 0 && w[0] < utf8.RuneSelf
}

func (t *kwTrie) wordEnd(b []byte, p, end int) bool {
	if p >= end {
		return true
	}
	r, _ := fold(b, p, end)
	return !isASCIIAlnum(r)
}
