package aeszip

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A deflate compressor allocates about 1 MB of tables and windows, and a
// gateway builds one archive per encrypted message: compressors and copy
// buffers are reused across Writers (as archive/zip does for its
// decompressors). The pools hold no data between uses: a compressor is
// Reset onto the next writer and buffers are overwritten before reading.
var (
	flatePools [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool
	bufPool    = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}
	bwPool     = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, copyBufSize) }}
)

func getBufWriter(w io.Writer) *bufio.Writer {
	bw := bwPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putBufWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	bwPool.Put(bw)
}

func getFlate(w io.Writer, level int) (*flate.Writer, error) {
	if fw, ok := flatePools[level-flate.HuffmanOnly].Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw, nil
	}
	return flate.NewWriter(w, level)
}

func putFlate(fw *flate.Writer, level int) {
	fw.Reset(io.Discard) // drop the reference to the last sink
	flatePools[level-flate.HuffmanOnly].Put(fw)
}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// sampleSize is how much of an entry decides whether to deflate it.
const sampleSize = 16 << 10

// incompressible reports whether a sample looks like compressed or
// encrypted data (JPEG, PNG, zip-based Office files, archives): its byte
// entropy is close to 8 bits. Deflate then costs the most time and saves
// well under 1 %, so such entries are stored; a reader sees method 0
// inside the AES envelope. Samples under 1 KiB are always deflated: their
// histogram says too little, and the cost is nil.
func incompressible(sample []byte) bool {
	if len(sample) < 1<<10 {
		return false
	}
	var hist [256]int
	for _, c := range sample {
		hist[c]++
	}
	n := float64(len(sample))
	h := 0.0
	bins := 0
	for _, c := range hist {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
			bins++
		}
	}
	// A histogram of n bytes underestimates the entropy by about
	// (bins-1)/(2n ln 2) bits (Miller-Madow), 0.01 at 16 KiB but 0.04 at
	// 5 KiB: adding it back makes the threshold mean the same for the
	// small attachments whose whole content is the sample.
	h += float64(bins-1) / (2 * n * math.Ln2)
	// Uniform bytes over a 16 KiB sample give ≈7.99 bits; a deflate
	// stream ≈7.97-7.99. Text, CSV, XML and uncompressed images stay far
	// below 7.5.
	limit := 7.9
	if deflatedZip(sample) {
		// A small .docx/.xlsx is mostly deflated XML, but its local and
		// central headers and part names bring a 2-5 KB package to
		// 7.5-7.9 bits; deflating it again saves at most a few names'
		// worth of bytes.
		limit = 7.5
	}
	return h > limit
}

// deflatedZip reports whether b starts with the local header of a deflated
// zip entry: OOXML documents and jars do (ODF starts with a stored
// mimetype and is left to the entropy alone).
func deflatedZip(b []byte) bool {
	return len(b) >= 30 && string(b[:4]) == "PK\x03\x04" && binary.LittleEndian.Uint16(b[8:]) == zip.Deflate
}
