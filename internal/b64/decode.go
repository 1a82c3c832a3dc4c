package b64

import "encoding/base64"

// Decode is base64.StdEncoding.Decode, with the same bytes, count and
// error (CorruptInputError at the same offset). Blocks of 32 standard
// alphabet characters go through AVX2 where the CPU has it; the first
// block with anything else (padding, a line break, a stray byte) and the
// rest go through the library, which sees them at a quantum boundary as
// it would have. dst must not overlap src: a block's store writes 32
// bytes, 8 past its output, which the next block or the library overwrites.
func Decode(dst, src []byte) (int, error) {
	if !useAVX2 || len(src) < 32 || len(dst) < 32 {
		return base64.StdEncoding.Decode(dst, src)
	}
	di, si := decodeAVX2(dst, src)
	n, err := base64.StdEncoding.Decode(dst[di:], src[si:])
	if ce, ok := err.(base64.CorruptInputError); ok {
		err = ce + base64.CorruptInputError(si)
	}
	return di + n, err
}
