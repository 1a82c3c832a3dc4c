package b64

import "encoding/base64"

// Decode is base64.StdEncoding.Decode, with the same bytes, count and
// error (CorruptInputError at the same offset). Blocks of 32 standard
// alphabet characters go through AVX2 where the CPU has it, then whole
// quanta of them through a table; the first quantum with anything else
// (padding, a line break, a stray byte, a short end) and the rest go
// through the library, which sees them at a quantum boundary as it would
// have. dst must not overlap src: a block's store writes 32 bytes, 8 past
// its output, which the next block or the library overwrites.
func Decode(dst, src []byte) (int, error) {
	if !useAVX2 {
		return base64.StdEncoding.Decode(dst, src)
	}
	di, si := 0, 0
	if len(src) >= 32 && len(dst) >= 32 {
		di, si = decodeAVX2(dst, src)
	}
	// The tail of a 76-character line, 12 characters, cost the library's
	// call more than the two blocks before it.
	for si+4 <= len(src) && di+3 <= len(dst) {
		a, b, c, d := decodeMap[src[si]], decodeMap[src[si+1]], decodeMap[src[si+2]], decodeMap[src[si+3]]
		if a|b|c|d > 63 {
			break
		}
		v := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
		si += 4
	}
	if si == len(src) {
		return di, nil
	}
	n, err := base64.StdEncoding.Decode(dst[di:], src[si:])
	if ce, ok := err.(base64.CorruptInputError); ok {
		err = ce + base64.CorruptInputError(si)
	}
	return di + n, err
}

// decodeMap is each standard alphabet character's value, 0xff for every
// other byte.
var decodeMap = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = uint8(i)
	}
	return t
}()
