package detect

import "bytes"

const (
	maxLocalRunes  = 64
	maxDomainRunes = 253
)

func localRune(r rune) bool {
	return isASCIIAlnum(r) || r == '.' || r == '_' || r == '%' || r == '+' || r == '-'
}

func domainRune(r rune) bool { return isASCIIAlnum(r) || r == '.' || r == '-' }

// fileExt reports "top-level domains" that are really file names
// ("icon@2x.png").
func fileExt(tld []byte) bool {
	switch string(tld) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "css", "js", "pdf":
		return true
	}
	return false
}

// email matches an address around the '@' (or '＠', atLen 3) at b[at]. It
// returns the offset to resume scanning from.
func (s *scanner) email(at, atLen, end int) int {
	next := at + atLen
	// Local part, read backwards.
	j := at
	for n := 0; n < maxLocalRunes; n++ {
		r, sz := foldLast(s.b, s.lo, j)
		if r < 0 || !localRune(r) {
			break
		}
		j -= sz
	}
	v := s.val[:0]
	for p := j; p < at; {
		r, sz := rune(s.b[p]), 1
		if r >= 0x80 {
			r, sz = fold(s.b, p, at)
		}
		v = append(v, lowerASCII(byte(r)))
		p += sz
	}
	for len(v) > 0 && v[0] == '.' {
		v = v[1:]
	}
	for len(v) > 0 && v[len(v)-1] == '.' {
		v = v[:len(v)-1]
	}
	if len(v) == 0 {
		return next
	}
	v = append(v, '@')
	dom := len(v)
	p := next
	for n := 0; n < maxDomainRunes && p < end; n++ {
		r, sz := rune(s.b[p]), 1
		if r >= 0x80 {
			r, sz = fold(s.b, p, end)
		}
		if !domainRune(r) {
			break
		}
		v = append(v, lowerASCII(byte(r)))
		p += sz
	}
	// Trailing dots and dashes are sentence punctuation.
	for len(v) > dom && (v[len(v)-1] == '.' || v[len(v)-1] == '-') {
		v = v[:len(v)-1]
	}
	s.val = v
	if !validDomain(v[dom:]) {
		return next
	}
	s.ev = evidence{kind: whyShape, word: -1}
	s.emit(detEmail, v)
	return p
}

// validDomain requires two or more non-empty labels, a letters-only TLD of
// two or more letters, and no file extension as TLD.
func validDomain(d []byte) bool {
	dot := bytes.LastIndexByte(d, '.')
	if dot <= 0 || d[0] == '-' || d[0] == '.' {
		return false
	}
	label := 0
	for i, c := range d {
		if c != '.' {
			if label++; label > 63 {
				return false // RFC 1035 label limit
			}
			continue
		}
		if i > 0 && d[i-1] == '.' {
			return false // empty label
		}
		label = 0
	}
	tld := d[dot+1:]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return !fileExt(tld)
}
