package extract

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// textDecoder turns bytes in some charset into UTF-8 a chunk at a time:
// a sequence cut at the end of a chunk is held back until the next call,
// so a file can be decoded through a fixed window and the result is the
// same as decoding it whole. Bad counts the invalid sequences replaced by
// U+FFFD so far.
type textDecoder interface {
	// Append decodes src onto dst; atEOF says src is the last chunk.
	Append(dst, src []byte, atEOF bool) []byte
	Bad() int
}

// newTextDecoder returns a decoder for e (nil means UTF-8). Shift_JIS
// (CP932) and EUC-JP, the bulk of Japanese CSV exports, get table-driven
// decoders; other charsets go through x/text's transformers.
func newTextDecoder(e encoding.Encoding) textDecoder {
	switch e {
	case nil, unicode.UTF8:
		return &utf8Decoder{}
	case japanese.ShiftJIS:
		return &jaDecoder{tab: jaDecodeTables(), sjis: true}
	case japanese.EUCJP:
		return &jaDecoder{tab: jaDecodeTables()}
	}
	d := xtextDecoders.Get().(*xtextDecoder)
	d.t, d.bad, d.pending = e.NewDecoder(), 0, nil
	return d
}

// xtextDecoders keep the decoders' 4 KiB scratch between parts: an
// ISO-2022-JP body took two (the charset check and the decoding) per mail.
var xtextDecoders = sync.Pool{New: func() any { return new(xtextDecoder) }}

// releaseTextDecoder gives d back; d is dead after it.
func releaseTextDecoder(d textDecoder) {
	if x, ok := d.(*xtextDecoder); ok {
		x.t, x.pending = nil, nil
		xtextDecoders.Put(x)
	}
}

// decodeChunk is the window used when decoding a whole buffer: output is
// produced in steps of this much input, so a slice grows by appends of a
// bounded size, never through a copy of the whole input.
const decodeChunk = 64 << 10

// decodeAll decodes b whole into one buffer sized for the usual expansion
// of Japanese text (two bytes to three).
func decodeAll(e encoding.Encoding, b []byte) ([]byte, int) {
	return decodeAllInto(make([]byte, 0, len(b)+len(b)/2+16), e, b)
}

// decodeAllInto is decodeAll appending to out.
func decodeAllInto(out []byte, e encoding.Encoding, b []byte) ([]byte, int) {
	d := newTextDecoder(e)
	defer releaseTextDecoder(d)
	for len(b) > decodeChunk {
		out = d.Append(out, b[:decodeChunk], false)
		b = b[decodeChunk:]
	}
	out = d.Append(out, b, true)
	return out, d.Bad()
}

// scratchPool holds buffers for text decoded only to be measured (charset
// checks and scores) and for the small windows of streamDecode; a buffer
// grown past maxScratch is left to the collector.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

const maxScratch = 1 << 20

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

// putScratch returns *bp with b, the buffer as grown from it.
func putScratch(bp *[]byte, b []byte) {
	if cap(b) > maxScratch {
		return
	}
	*bp = b[:0]
	scratchPool.Put(bp)
}

// jaTables maps each valid multi-byte code to its UTF-8 form, packed as
// the bytes in the low 24 bits (first byte lowest) and the length in bits
// 24-26; bit 31 marks a code x/text decodes to U+FFFD (unmapped). Zero
// means "not a two-byte code" and never occurs for a filled slot.
type jaTables struct {
	sjis    [1 << 16]uint32 // by lead<<8 | trail
	euc0208 [94 * 94]uint32 // by (c0-0xA1)*94 + (c1-0xA1)
	euc0212 [94 * 94]uint32 // 0x8F c1 c2
}

const jaBad = 1 << 31

var (
	jaOnce sync.Once
	jaTab  *jaTables // read-only once built
)

// jaDecodeTables builds the tables from x/text's own decoders on first
// use (about 30,000 codes, a few milliseconds), so both decoders agree by
// construction.
func jaDecodeTables() *jaTables {
	jaOnce.Do(func() {
		t := new(jaTables)
		sj, eu := japanese.ShiftJIS.NewDecoder(), japanese.EUCJP.NewDecoder()
		buf, src := make([]byte, 8), make([]byte, 0, 3)
		one := func(tr transform.Transformer, code ...byte) uint32 {
			tr.Reset()
			n, _, err := tr.Transform(buf, append(src[:0], code...), true)
			if err != nil {
				return 0
			}
			r, size := utf8.DecodeRune(buf[:n])
			if size != n || size == 0 {
				return 0
			}
			return packRune(r)
		}
		for c0 := 0x81; c0 <= 0xFC; c0++ {
			if c0 >= 0xA0 && c0 < 0xE0 {
				continue
			}
			for c1 := 0x40; c1 < 0xFD; c1++ {
				if c1 != 0x7F {
					t.sjis[c0<<8|c1] = one(sj, byte(c0), byte(c1))
				}
			}
		}
		for i := range 94 {
			for j := range 94 {
				t.euc0208[i*94+j] = one(eu, byte(0xA1+i), byte(0xA1+j))
				t.euc0212[i*94+j] = one(eu, 0x8F, byte(0xA1+i), byte(0xA1+j))
			}
		}
		jaTab = t
	})
	return jaTab
}

func packRune(r rune) uint32 {
	var b [4]byte
	n := utf8.EncodeRune(b[:], r)
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(n)<<24
	if r == utf8.RuneError {
		v |= jaBad
	}
	return v
}

// jaDecoder decodes Shift_JIS (Windows-31J) or EUC-JP exactly as x/text
// does, including how many bytes each invalid sequence consumes, but with
// a copy for ASCII runs and a table load per character.
type jaDecoder struct {
	tab  *jaTables
	sjis bool
	bad  int
	c    carrier
}

func (d *jaDecoder) Bad() int { return d.bad }

func (d *jaDecoder) Append(dst, src []byte, atEOF bool) []byte {
	return d.c.append(dst, src, atEOF, d.run)
}

// carrier holds the bytes of a sequence cut at a chunk end (at most three:
// a UTF-8 rune without its last byte).
type carrier struct {
	b [3]byte
	n int
}

// append runs run over the held bytes followed by src. run decodes what it
// can and returns how much it consumed: everything, or up to an
// incomplete sequence at the end when !atEOF.
func (c *carrier) append(dst, src []byte, atEOF bool, run func(dst, src []byte, atEOF bool) ([]byte, int)) []byte {
	if c.n > 0 {
		var tmp [6]byte
		n := copy(tmp[:], c.b[:c.n])
		k := copy(tmp[n:], src)
		var used int
		dst, used = run(dst, tmp[:n+k], atEOF && k == len(src))
		if used < n {
			// still incomplete: src was shorter than the sequence
			c.n = copy(c.b[:], tmp[used:n+k])
			return dst
		}
		src = src[used-n:]
		c.n = 0
	}
	dst, used := run(dst, src, atEOF)
	c.n = copy(c.b[:], src[used:])
	return dst
}

const replacement = "\uFFFD"

// run decodes src and returns how much it consumed: all of it, or up to
// an incomplete sequence at the end when !atEOF. The output is written by
// index into room made once (a byte becomes at most three), not appended
// byte by byte.
func (d *jaDecoder) run(dst, src []byte, atEOF bool) ([]byte, int) {
	o := len(dst)
	dst = slices.Grow(dst, 3*len(src))
	out := dst[:cap(dst)]
	put := func(s string) {
		o += copy(out[o:], s)
	}
	i := 0
	for i < len(src) {
		c := src[i]
		if c < utf8.RuneSelf {
			j := i + 1
			for j+8 <= len(src) && binary.LittleEndian.Uint64(src[j:])&0x8080808080808080 == 0 {
				j += 8
			}
			for j < len(src) && src[j] < utf8.RuneSelf {
				j++
			}
			o += copy(out[o:], src[i:j])
			i = j
			continue
		}
		var v uint32
		size := 1
		if d.sjis {
			switch {
			case 0xA1 <= c && c < 0xE0: // half-width katakana U+FF61..
				o += utf8.EncodeRune(out[o:], rune(c)+(0xFF61-0xA1))
				i++
				continue
			case 0x81 <= c && c < 0xA0 || 0xE0 <= c && c < 0xFD:
				if i+1 >= len(src) {
					if !atEOF {
						return out[:o], i
					}
					break // U+FFFD, one byte
				}
				switch c1 := src[i+1]; {
				case c1 < 0x40 || c1 == 0x7F: // c1 is ASCII: read again
				case c1 >= 0xFD:
					size = 2
				default:
					v, size = d.tab.sjis[int(c)<<8|int(c1)], 2
				}
			case c == 0x80:
				out[o], out[o+1] = 0xC2, 0x80
				o += 2
				i++
				continue
			}
		} else {
			switch {
			case c == 0x8E: // half-width katakana
				if i+1 >= len(src) {
					if !atEOF {
						return out[:o], i
					}
					break
				}
				switch c1 := src[i+1]; {
				case c1 < 0xA1:
				case c1 > 0xDF:
					if c1 != 0xFF {
						size = 2
					}
				default:
					o += utf8.EncodeRune(out[o:], rune(c1)+(0xFF61-0xA1))
					i += 2
					continue
				}
			case c == 0x8F: // JIS X 0212, three bytes
				if i+2 >= len(src) {
					if !atEOF {
						return out[:o], i
					}
					if p := i + 1; p < len(src) && 0xA1 <= src[p] && src[p] < 0xFE {
						size = 2
					}
					break
				}
				c1, c2 := src[i+1], src[i+2]
				switch {
				case c1 < 0xA1 || c1 > 0xFE:
				case c2 < 0xA1 || c2 > 0xFE:
					size = 2
				default:
					v, size = d.tab.euc0212[int(c1-0xA1)*94+int(c2-0xA1)], 3
				}
			case 0xA1 <= c && c <= 0xFE:
				if i+1 >= len(src) {
					if !atEOF {
						return out[:o], i
					}
					break
				}
				if c1 := src[i+1]; 0xA1 <= c1 && c1 <= 0xFE {
					v, size = d.tab.euc0208[int(c-0xA1)*94+int(c1-0xA1)], 2
				}
			}
		}
		i += size
		if v == 0 || v&jaBad != 0 {
			d.bad++
			put(replacement)
			continue
		}
		// the packed bytes, written whole; the length says how many count
		out[o], out[o+1], out[o+2] = byte(v), byte(v>>8), byte(v>>16)
		o += int(v >> 24 & 7)
	}
	return out[:o], i
}

// utf8Decoder passes valid UTF-8 through and replaces each invalid byte
// with U+FFFD (as toValidUTF8 does), holding back a rune cut at a chunk end.
type utf8Decoder struct {
	bad int
	c   carrier
}

func (d *utf8Decoder) Bad() int { return d.bad }

func (d *utf8Decoder) Append(dst, src []byte, atEOF bool) []byte {
	return d.c.append(dst, src, atEOF, d.run)
}

func (d *utf8Decoder) run(dst, src []byte, atEOF bool) ([]byte, int) {
	if utf8.Valid(src) {
		return append(dst, src...), len(src)
	}
	i := 0
	for i < len(src) {
		// copy the longest valid run at once
		j := i
		for j < len(src) {
			if src[j] < utf8.RuneSelf {
				j++
				continue
			}
			r, n := utf8.DecodeRune(src[j:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			j += n
		}
		dst = append(dst, src[i:j]...)
		i = j
		if i == len(src) {
			break
		}
		if !atEOF && !utf8.FullRune(src[i:]) {
			return dst, i
		}
		d.bad++
		dst = append(dst, replacement...)
		i++
	}
	return dst, i
}

// xtextDecoder drives an x/text transformer through a small scratch
// buffer (ISO-2022-JP, UTF-16, single-byte charsets).
type xtextDecoder struct {
	t       transform.Transformer
	bad     int
	pending []byte
	scratch [4096]byte
}

func (d *xtextDecoder) Bad() int { return d.bad }

func (d *xtextDecoder) Append(dst, src []byte, atEOF bool) []byte {
	if len(d.pending) > 0 {
		src = append(d.pending, src...)
		d.pending = nil
	}
	for {
		nDst, nSrc, err := d.t.Transform(d.scratch[:], src, atEOF)
		out := d.scratch[:nDst]
		d.bad += bytes.Count(out, []byte(replacement))
		dst = append(dst, out...)
		src = src[nSrc:]
		switch err {
		case transform.ErrShortDst:
			continue
		case transform.ErrShortSrc:
			if !atEOF {
				d.pending = append([]byte(nil), src...)
				return dst
			}
		case nil:
			if len(src) == 0 {
				return dst
			}
			continue
		}
		// x/text decoders replace bad input rather than fail; anything
		// else is taken as invalid bytes.
		d.bad += len(src)
		for range src {
			dst = append(dst, replacement...)
		}
		return dst
	}
}
