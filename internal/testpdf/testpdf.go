// Package testpdf builds PDFs for tests: a minimal one-page document around
// a given content stream, and a decompression bomb.
package testpdf

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"sync"
)

// WithContent builds a one-page PDF whose content stream is stream, with
// the given /Filter ("" for none), a Helvetica font /F1 and a correct
// cross-reference table.
func WithContent(stream []byte, filter string) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		b.WriteString(s)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	obj("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	obj("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " +
		"/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n")
	f := ""
	if filter != "" {
		f = " /Filter /" + filter
	}
	obj(fmt.Sprintf("4 0 obj\n<< /Length %d%s >>\nstream\n", len(stream), f))
	b.Write(stream)
	b.WriteString("\nendstream\nendobj\n")
	obj("5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// WithImage builds a one-page PDF with one line of text and, to make it
// large, an image XObject of the given pixels (8-bit gray, unfiltered),
// the shape of a scanned or illustrated report. A text extractor reads the
// line and never decodes the image. Like the files office programs write,
// it has a document information dictionary (/Producer, /CreationDate)
// after the image, named by the trailer.
func WithImage(text string, pixels []byte) []byte {
	side := 1
	for side*side < len(pixels) {
		side++
	}
	pixels = append(pixels, make([]byte, side*side-len(pixels))...)
	content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET q 200 0 0 200 72 400 cm /Im1 Do Q", text)
	var b bytes.Buffer
	var offs []int
	obj := func(body string, stream []byte) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offs), body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "+
		"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>", nil)
	obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", nil)
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "+
		"/BitsPerComponent 8 /Length %d >>", side, side, len(pixels)), pixels)
	obj("<< /Producer (Microsoft\xae Word for Microsoft 365) /CreationDate (D:20261201093000+09'00') >>", nil)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, len(offs), xref)
	return b.Bytes()
}

// BombInflated is how many bytes Bomb's content stream inflates to.
const BombInflated = bombChunks * (1 << 20 / 7 * 7)

const bombChunks = 1024 // a power of two (see Bomb)

var (
	bombOnce sync.Once
	bomb     []byte
	bombErr  error
)

// Bomb returns a one-page PDF (≈1.6 MB) whose content stream, a valid
// zlib stream of text-showing operators, inflates to ≈1 GiB. The result
// is shared: do not modify it.
func Bomb() ([]byte, error) {
	bombOnce.Do(func() { bomb, bombErr = makeBomb() })
	return bomb, bombErr
}

// makeBomb avoids compressing a gigabyte: deflate blocks of a periodic
// input after a sync flush are identical, so one block is repeated, and
// the Adler-32 of the repeated input is combined, not computed.
func makeBomb() ([]byte, error) {
	chunk := bytes.Repeat([]byte("(A) Tj "), 1<<20/7)
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	var blocks [][]byte
	for range 3 {
		fw.Write(chunk)
		fw.Flush()
		blocks = append(blocks, bytes.Clone(b.Bytes()))
		b.Reset()
	}
	fw.Close()
	tail := bytes.Clone(b.Bytes())
	if !bytes.Equal(blocks[1], blocks[2]) {
		return nil, errors.New("testpdf: deflate blocks of a periodic input differ")
	}
	sum, n := adler32.Checksum(chunk), int64(len(chunk))
	for c := 1; c < bombChunks; c *= 2 {
		sum, n = AdlerCombine(sum, sum, n), 2*n
	}
	var z bytes.Buffer
	z.Write([]byte{0x78, 0xda})
	z.Write(blocks[0])
	for range bombChunks - 1 {
		z.Write(blocks[1])
	}
	z.Write(tail)
	z.Write(binary.BigEndian.AppendUint32(nil, sum))
	return WithContent(z.Bytes(), "FlateDecode"), nil
}

// AdlerCombine is the Adler-32 of a‖b from theirs and b's length (zlib's
// adler32_combine).
func AdlerCombine(a, b uint32, lenB int64) uint32 {
	const mod = 65521
	rem := uint64(lenB % mod)
	s1 := uint64(a & 0xffff)
	s2 := rem * s1 % mod
	s1 += uint64(b&0xffff) + mod - 1
	s2 += uint64(a>>16) + uint64(b>>16) + mod - rem
	return uint32(s2%mod)<<16 | uint32(s1%mod)
}
