package detect

import (
	"bytes"
	"hash/maphash"
	"slices"
)

// People affected: every table record and every prose line carrying
// personal data is one person, known by the identifiers found on it (My
// Number, e-mail, phone, card, account and other ID numbers, and name +
// address or name + the other personal cells of a customer-list row).
// Two records sharing any identifier are the same person. Up to
// peopleExact people the count is exact (an identifier → person map, with
// the rows' identifiers linked); beyond it each record adds only its
// highest-priority identifier to a HyperLogLog sketch (distinct, ≈0.8 %
// standard error), so memory stays bounded on a million-row list.
const (
	peopleExact  = 4096
	maxRowIDs    = 8 // identifiers kept per record
	prioNameAddr = 100
)

// personID is one identifier of a record; lower prio is stronger.
type personID struct {
	prio uint8
	h    uint64
}

// idPriority ranks the detectors that identify a person; 0 means the
// detector does not (corporate numbers, postal codes, addresses alone).
var idPriority = [numDetectors]uint8{
	detMyNumber: 1, detEmail: 2, detPhone: 3, detCard: 4, detBank: 5,
	detPassport: 6, detLicense: 7, detPension: 8, detResidence: 9,
	detJuminhyo: 10, detHealth: 11,
}

// itemCat maps a detector to the data item (a context category) it shows.
var itemCat = [numDetectors]uint8{
	detMyNumber: catMyNumber, detCard: catCard, detPhone: catPhone,
	detEmail: catEmail, detPostal: catPostal, detAddress: catAddress,
	detBank: catBank, detPassport: catPassport, detLicense: catLicense,
	detPension: catPension, detResidence: catResidence,
	detJuminhyo: catJuminhyo, detHealth: catInsured,
}

// itemOrder lists the data items in the order reports name them, with the
// words of the PPC report form.
var itemOrder = []struct {
	cat  uint8
	name string
}{
	{catName, "氏名"}, {catBirth, "生年月日"}, {catGender, "性別"},
	{catAddress, "住所"}, {catPostal, "郵便番号"}, {catPhone, "電話番号"},
	{catEmail, "メールアドレス"}, {catMyNumber, "マイナンバー"},
	{catCard, "クレジットカード番号"}, {catBank, "口座番号"},
	{catPassport, "旅券番号"}, {catLicense, "運転免許証番号"},
	{catPension, "基礎年金番号"}, {catResidence, "在留カード番号"},
	{catJuminhyo, "住民票コード"}, {catInsured, "健康保険証番号"},
	{catInsurer, "健康保険証番号"},
}

// people counts distinct people.
type people struct {
	ids     map[uint64]int32 // identifier → person (exact mode)
	primary []uint64         // each person's strongest identifier
	sketch  *distinct        // non-nil once approximate
}

// add records one person known by ids (sorted, strongest first).
func (p *people) add(ids []personID) {
	if len(ids) == 0 {
		return
	}
	if p.sketch != nil {
		p.sketch.hllAdd(ids[0].h)
		return
	}
	if p.ids == nil {
		p.ids = map[uint64]int32{}
	}
	who := int32(-1)
	for _, id := range ids {
		if w, ok := p.ids[id.h]; ok {
			who = w
			break
		}
	}
	if who < 0 {
		who = int32(len(p.primary))
		p.primary = append(p.primary, ids[0].h)
	}
	for _, id := range ids {
		if _, ok := p.ids[id.h]; !ok {
			p.ids[id.h] = who
		}
	}
	if len(p.primary) > peopleExact {
		p.approximate()
	}
}

// approximate turns the exact set into a sketch of primary identifiers.
func (p *people) approximate() {
	p.sketch = &distinct{hll: make([]uint8, hllRegisters)}
	for _, h := range p.primary {
		p.sketch.hllAdd(h)
	}
	p.ids, p.primary = nil, nil
}

// merge adds o's people into p, linking people who share an identifier.
func (p *people) merge(o *people) {
	if o.sketch != nil {
		if p.sketch == nil {
			p.approximate()
		}
		p.sketch.merge(o.sketch)
		return
	}
	groups := make([][]personID, len(o.primary))
	for i, h := range o.primary {
		groups[i] = []personID{{h: h}}
	}
	for h, w := range o.ids {
		if h != o.primary[w] {
			groups[w] = append(groups[w], personID{prio: 1, h: h})
		}
	}
	for _, g := range groups {
		p.add(g)
	}
}

func (p *people) count() (int, bool) {
	if p.sketch != nil {
		return p.sketch.count(), true
	}
	return len(p.primary), false
}

// personRow gathers the identifiers of the record (table row or prose
// line) being read.
type personRow struct {
	ids      []personID
	name     uint64 // hash of the name cell; 0 if none
	addr     uint64 // hash of the address (cell or detected address)
	other    maphash.Hash
	hasOther bool
	items    uint32 // data items seen on this record
	kinds    uint32 // prose: detectors whose identifiers the line holds
	nearPrev bool   // prose: the line follows the last personal line closely
}

func (r *personRow) reset() {
	r.ids, r.name, r.addr, r.hasOther, r.items, r.kinds, r.nearPrev = r.ids[:0], 0, 0, false, 0, 0, false
	r.other.Reset()
}

func (r *personRow) addID(prio uint8, h uint64) {
	if len(r.ids) < maxRowIDs {
		r.ids = append(r.ids, personID{prio: prio, h: h})
	}
}

// noteEmit records detector d's normalised value on the current record.
func (s *scanner) noteEmit(d int, v []byte) {
	if d >= numDetectors {
		return // dictionaries and custom patterns say nothing of people
	}
	pr := &s.prow
	pr.items |= 1 << itemCat[d]
	switch {
	case idPriority[d] != 0:
		pr.addID(idPriority[d], s.res.hash64(v)^uint64(d)*0x9E3779B97F4A7C15)
		pr.kinds |= 1 << d
	case d == detAddress && pr.addr == 0:
		pr.addr = s.res.hash64(v)
		pr.kinds |= 1 << d
	}
}

// noteCell records a name, address or other personal cell of a table row.
func (s *scanner) noteCell(c uint8, cell []byte) {
	pr := &s.prow
	v := squeeze(cell, s.nameBuf[:0])
	s.nameBuf = v
	if len(v) == 0 {
		return
	}
	switch c {
	case catName:
		if pr.name == 0 {
			pr.name = s.res.hash64(v)
		}
	case catAddress:
		if pr.addr == 0 {
			pr.addr = s.res.hash64(v)
		}
	default:
		pr.other.SetSeed(s.e.seed)
		pr.other.Write(v)
		pr.other.WriteByte(0)
		pr.hasOther = true
	}
}

// flushPerson ends the current record: it counts as one person when it
// carries an identifier, or a name with an address or other personal data.
func (s *scanner) flushPerson(record bool) {
	pr := &s.prow
	if record {
		s.res.items |= pr.items
		if pr.name != 0 {
			k := pr.addr
			if k == 0 && pr.hasOther {
				k = pr.other.Sum64()
			}
			if k != 0 {
				pr.addID(prioNameAddr, pr.name*31+k)
			}
		} else if len(pr.ids) == 0 && pr.addr != 0 && !s.tabular {
			// a pasted list of addresses: one line, one person
			pr.addID(prioNameAddr+1, pr.addr)
		}
		if !s.tabular {
			s.groupLine(pr)
		} else {
			slices.SortStableFunc(pr.ids, func(a, b personID) int { return int(a.prio) - int(b.prio) })
			s.res.people.add(pr.ids)
		}
	}
	pr.reset()
}

// groupLine adds a prose line's identifiers to the record being read
// when the line follows it closely and names kinds of data it does not
// have yet (a record written on several lines: 電話 …, then メール …);
// a repeated kind (the next person's phone), a blank line or a gap
// starts the next person.
func (s *scanner) groupLine(pr *personRow) {
	if len(pr.ids) == 0 {
		return
	}
	g := &s.pgroup
	if len(g.ids) > 0 && pr.nearPrev && g.kinds&pr.kinds == 0 {
		for _, id := range pr.ids {
			g.addID(id.prio, id.h)
		}
		g.kinds |= pr.kinds
		return
	}
	s.flushGroup()
	for _, id := range pr.ids {
		g.addID(id.prio, id.h)
	}
	g.kinds = pr.kinds
}

// flushGroup counts the prose record being read as one person.
func (s *scanner) flushGroup() {
	g := &s.pgroup
	if len(g.ids) > 0 {
		slices.SortStableFunc(g.ids, func(a, b personID) int { return int(a.prio) - int(b.prio) })
		s.res.people.add(g.ids)
	}
	g.reset()
}

// nearLastLine reports whether the line holding s.at directly follows
// the last line counted in Lines, or has one non-blank line between.
func (s *scanner) nearLastLine() bool {
	from := s.lineDone - s.base
	if s.lineDone == 0 || from < s.lo || from > s.at {
		return false
	}
	start := s.at
	for start > from && s.b[start-1] != '\n' {
		start--
	}
	between := s.b[from:start]
	if len(between) == 0 {
		return true
	}
	if bytes.Count(between, []byte{'\n'}) != 1 {
		return false
	}
	return len(bytes.TrimSpace(between)) > 0
}

// squeeze appends cell to dst without spaces (ASCII and ideographic), so
// "山田 太郎" and "山田　太郎" are one name.
func squeeze(cell, dst []byte) []byte {
	for i := 0; i < len(cell); {
		switch {
		case cell[i] == ' ' || cell[i] == '\t' || cell[i] == '"':
			i++
		case ideographicSpaceAt(cell, i):
			i += 3
		default:
			dst = append(dst, cell[i])
			i++
		}
	}
	return dst
}

// People returns the estimated number of distinct people whose personal
// data the scanned text carries, and whether the figure is an estimate
// (more than 4,096 people).
func (r *Result) People() (int, bool) { return r.people.count() }

// DataItems names the kinds of personal data found (氏名, 住所, 電話番号,
// …), in a fixed order.
func (r *Result) DataItems() []string { return itemNames(r.items) }

func itemNames(items uint32) []string {
	var out []string
	for _, it := range itemOrder {
		if items&(1<<it.cat) != 0 && !slices.Contains(out, it.name) {
			out = append(out, it.name)
		}
	}
	return out
}

// Tally adds up the people and data items of the results of one message
// (every part and attachment): a person met in two attachments counts
// once. Results must come from the tally's Engine.
type Tally struct {
	e      *Engine
	people people
	items  uint32
}

// NewTally starts an empty tally.
func (e *Engine) NewTally() *Tally { return &Tally{e: e} }

// Add merges r's people and data items into t.
func (t *Tally) Add(r *Result) error {
	if r == nil {
		return nil
	}
	if r.e != t.e {
		return ErrForeignResult
	}
	t.people.merge(&r.people)
	t.items |= r.items
	return nil
}

// People is the estimated number of distinct people; see Result.People.
func (t *Tally) People() (int, bool) { return t.people.count() }

// DataItems names the kinds of personal data found.
func (t *Tally) DataItems() []string { return itemNames(t.items) }
