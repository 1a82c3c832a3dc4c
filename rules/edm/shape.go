package edm

import "unicode/utf8"

// Value shapes: recorded at import for every normalised value, they let the
// matcher turn away a candidate whose shape no value of the index has (an
// address mixing kanji and digits, a date, a postal code, a two-kanji word
// when every name is longer) before the SipHash and the filter's cache
// miss. A shape is the set of character classes of the normalised value;
// for each shape the index keeps the shortest and longest value's length in
// bytes. Equal values have equal shapes, so no match is lost.
const (
	shapeDigit = 1 << iota
	shapeLower // ASCII letters (lower-cased by normalisation)
	shapeAt
	shapePunct // other ASCII
	shapeHira  // hiragana and katakana (folded) and the long-vowel mark
	shapeHan
	shapeOther // any other non-ASCII rune
	shapeCount = 1 << 7
)

// shapeRange is the byte-length range of the index's values of one shape;
// max == 0 means no value has that shape.
type shapeRange struct{ min, max uint16 }

// Shapes is the table of shapes an index holds, indexed by shape.
type Shapes [shapeCount]shapeRange

// shapeOf returns the shape of a normalised value.
func shapeOf(v []byte) uint8 {
	var m uint8
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= '0' && c <= '9':
				m |= shapeDigit
			case c >= 'a' && c <= 'z':
				m |= shapeLower
			case c == '@':
				m |= shapeAt
			default:
				m |= shapePunct
			}
			i++
			continue
		}
		r, n := decodeRune(v[i:])
		switch {
		case r >= 0x3041 && r <= 0x30FA || r == 0x30FC:
			m |= shapeHira
		case r >= 0x4E00 && r <= 0x9FFF:
			m |= shapeHan
		default:
			m |= shapeOther
		}
		i += n
	}
	return m
}

func (t *Shapes) add(v []byte) {
	r := &t[shapeOf(v)]
	n := uint16(min(len(v), 0xFFFF))
	if r.max == 0 || n < r.min {
		r.min = n
	}
	r.max = max(r.max, n)
}

// has reports whether a value of shape s and length n may be in the index.
func (t *Shapes) has(s uint8, n int) bool {
	r := t[s&(shapeCount-1)]
	return n >= int(r.min) && n <= int(r.max)
}

// shapeCaps holds, for each shape, the longest value of the index whose
// shape includes it: a token whose shape so far is s and that is already
// longer than caps[s] bytes cannot end as any value of the index, whatever
// classes its remaining runes add.
type shapeCaps [shapeCount]uint16

func (t *Shapes) caps() *shapeCaps {
	c := new(shapeCaps)
	for s := range shapeCount {
		for w, r := range t {
			if w&s == s {
				c[s] = max(c[s], r.max)
			}
		}
	}
	return c
}

// encode writes the table for the index header: [shape, min, max] for each
// shape present.
func (t *Shapes) encode() [][3]uint16 {
	var out [][3]uint16
	for s, r := range t {
		if r.max > 0 {
			out = append(out, [3]uint16{uint16(s), r.min, r.max})
		}
	}
	return out
}

func decodeShapes(in [][3]uint16) (*Shapes, bool) {
	t := new(Shapes)
	for _, e := range in {
		if e[0] >= shapeCount || e[2] == 0 || e[1] > e[2] {
			return nil, false
		}
		t[e[0]] = shapeRange{e[1], e[2]}
	}
	return t, true
}
