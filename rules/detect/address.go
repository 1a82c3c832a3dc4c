package detect

import "unicode/utf8"

var prefectures = []string{
	"北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県",
	"栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
	"石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
	"滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
	"岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
	"佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
}

// designatedCities are written without their prefecture; they count as an
// address only when a ward (…区) follows. さいたま市 is left out: its lead
// character is too common a kana to trigger on, and 埼玉県さいたま市 is found
// through the prefecture.
var designatedCities = []string{
	"札幌市", "仙台市", "千葉市", "横浜市", "川崎市", "相模原市",
	"新潟市", "静岡市", "浜松市", "名古屋市", "京都市", "大阪市", "堺市", "神戸市",
	"岡山市", "広島市", "北九州市", "福岡市", "熊本市",
}

type place struct {
	name []byte
	city bool
}

// placeIndex maps a lead rune to the prefectures and cities starting with it.
type placeIndex struct{ m *runeMap[place] }

func newPlaceIndex() placeIndex {
	x := placeIndex{m: newRuneMap[place]()}
	add := func(names []string, city bool) {
		for _, n := range names {
			r, _ := utf8.DecodeRuneInString(n)
			x.m.add(r, place{name: []byte(n), city: city})
		}
	}
	add(prefectures, false)
	add(designatedCities, true)
	return x
}

// at returns the place name starting at b[i] (lead rune r), if any.
func (x placeIndex) at(b []byte, i, end int, r rune) (place, bool) {
	for _, p := range x.m.get(r) {
		if i+len(p.name) <= end && string(b[i:i+len(p.name)]) == string(p.name) {
			return p, true
		}
	}
	return place{}, false
}

const (
	maxMunicipalityRunes = 10
	maxAddressRunes      = 48
)

// municipalitySuffix reports the characters that end a municipality name.
func municipalitySuffix(r rune) bool {
	return r == '市' || r == '区' || r == '町' || r == '村' || r == '郡'
}

// particle reports hiragana that cannot occur inside a place name but join
// words in prose ("東京都の予算は市…").
func particle(r rune) bool {
	switch r {
	case 'の', 'は', 'が', 'を', 'に', 'で', 'と', 'も', 'へ', 'や', 'よ', 'ね', 'か':
		return true
	}
	return false
}

func placeRune(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r == '々', r == 'ヶ', r == 'ケ', r == 'ヵ':
		return true
	case r >= 0x30A1 && r <= 0x30FA: // katakana
		return true
	case r >= 0x3041 && r <= 0x3096:
		return !particle(r)
	}
	return false
}

func isKanji(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF || r == '々' }

// particleInName reports a particle between two kanji, as in 丸の内 or
// 霞が関. Inside a kana word (みなとみらい) particles are letters; elsewhere
// (港区にある…) they end the address.
func (s *scanner) particleInName(q, sz, end int, prevKanji bool) bool {
	if !prevKanji || q+sz >= end {
		return false
	}
	next, _ := utf8.DecodeRune(s.b[q+sz : end])
	return isKanji(next)
}

// addressRune reports characters that may continue an address after the
// municipality: place characters, digits, letters, dashes and the
// chome/banchi markers.
func addressRune(r rune) bool {
	return placeRune(r) || r >= 0x3041 && r <= 0x3096 || isASCIIAlnum(r) || isDash(r) ||
		r == '・' || r == '#'
}

// address matches prefecture (or designated city) + municipality at b[i]
// and leaves the normalised address (folded digits and dashes) in s.val. The
// address runs to the first delimiter, context word (電話, TEL, メール, …),
// letter right after a digit ("1-2-3TEL…"), or maxAddressRunes. It returns
// the offset after the raw address.
func (s *scanner) address(i, end int, p place) (rawEnd int, ok bool) {
	b := s.b
	pos := i + len(p.name)
	// Municipality: 1..maxMunicipalityRunes place runes ending in a suffix.
	// A designated city needs a ward: …区.
	found := -1
	n := 0
	for q := pos; q < end && n <= maxMunicipalityRunes; n++ {
		r, sz := utf8.DecodeRune(b[q:end])
		if !placeRune(r) {
			break
		}
		q += sz
		if n > 0 && (municipalitySuffix(r) && !p.city || p.city && r == '区') {
			found = q
			n++
			break
		}
	}
	if found < 0 {
		return 0, false
	}
	out := append(s.val[:0], b[i:found]...)
	runes := utf8.RuneCount(p.name) + n
	prevDigit, prevKanji, prevKana := false, true, false
	q := found
	for ; q < end && runes < maxAddressRunes; runes++ {
		raw, sz := rune(b[q]), 1
		if c := b[q]; c >= 0xE0 && c < 0xF0 && q+2 < end && (uint16(b[q+1])<<8|uint16(b[q+2]))&0xC0C0 == 0x8080 {
			raw, sz = rune(c&0x0F)<<12|rune(b[q+1]&0x3F)<<6|rune(b[q+2]&0x3F), 3
		} else if raw >= utf8.RuneSelf {
			raw, sz = utf8.DecodeRune(b[q:end])
		}
		if isKanji(raw) { // the common case, kept short
			if s.e.ctx.mayStart(raw) && s.e.ctx.startsAt(b, s.lo, q, end) {
				break
			}
			out = append(out, b[q:q+sz]...)
			prevDigit, prevKanji, prevKana = false, true, false
			q += sz
			continue
		}
		r := foldRune(raw)
		if !addressRune(r) || prevDigit && isASCIILetter(r) ||
			particle(r) && !prevKana && !s.particleInName(q, sz, end, prevKanji) ||
			s.e.ctx.mayStart(raw) && s.e.ctx.startsAt(b, s.lo, q, end) {
			break
		}
		prevKanji, prevKana = isKanji(r), r >= 0x3041 && r <= 0x3096
		switch {
		case isDash(r) && (r != 'ー' && r != 0xFF70 || prevDigit):
			out = append(out, '-')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			out = append(out, b[q:q+sz]...)
		}
		prevDigit = isASCIIDigit(r)
		q += sz
	}
	// Trailing dashes are punctuation, not part of the address.
	for len(out) > 0 && out[len(out)-1] == '-' {
		out = out[:len(out)-1]
	}
	s.val = out
	return q, true
}
