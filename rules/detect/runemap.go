package detect

// runeMap maps a rune to a list through open addressing in fixed arrays:
// one multiply and usually one probe, cheaper than a Go map on the hot path.
type runeMap[T any] struct {
	keys [runeSlots]rune
	vals [runeSlots][]T
	n    int
}

const runeSlots = 512 // power of two, well above the number of keys

func runeSlot(r rune) int { return int(uint32(r)*0x9E3779B1>>23) & (runeSlots - 1) }

func newRuneMap[T any]() *runeMap[T] {
	m := &runeMap[T]{}
	for i := range m.keys {
		m.keys[i] = -1
	}
	return m
}

// add appends v to r's list; it panics when the table is too full, which
// only a programming error (a far larger dictionary) can cause.
func (m *runeMap[T]) add(r rune, v T) {
	k := runeSlot(r)
	for m.keys[k] != -1 && m.keys[k] != r {
		k = (k + 1) & (runeSlots - 1)
	}
	if m.keys[k] == -1 {
		if m.n >= runeSlots/2 {
			panic("detect: runeMap full")
		}
		m.keys[k] = r
		m.n++
	}
	m.vals[k] = append(m.vals[k], v)
}

func (m *runeMap[T]) get(r rune) []T {
	for k := runeSlot(r); m.keys[k] != -1; k = (k + 1) & (runeSlots - 1) {
		if m.keys[k] == r {
			return m.vals[k]
		}
	}
	return nil
}

// each calls f for every key.
func (m *runeMap[T]) each(f func(rune)) {
	for _, r := range m.keys {
		if r != -1 {
			f(r)
		}
	}
}
