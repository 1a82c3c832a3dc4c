package aeszip

import (
	"archive/zip"
	"crypto/rand"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// An AES entry that fits in memory is read whole, compressed into memory,
// encrypted in place and written straight into the archive: its sizes are
// known before the local header, so it skips the staging buffer and its
// copy (encryptToTemp and copyEntry, which larger entries and ZipCrypto
// still take). Apart from the salt, the entry is the one the staged path
// writes, except that small inputs are deflated by the stateless encoder
// (TestDirectSameAsStaged).
const (
	// directMax is the largest entry written directly, as much as the
	// staging buffer keeps in memory (spillbuf.MemLimit).
	directMax = 512 << 10
	// statelessMax is the largest entry deflated by flate.StatelessDeflate
	// (at the default level or below): its 16 KiB hash table lives on the
	// stack and stays in cache, where a pooled level-5 compressor's 400 KB
	// of tables are cold by the time the next message comes, and for a few
	// KB of input the setup and misses cost more than the compression.
	// Its output is 2-15 % larger there (TestStatelessRatio).
	statelessMax = 16 << 10
	// fuseChunk is how much is encrypted and then MACed at a time, so that
	// the MAC reads the ciphertext from L1.
	fuseChunk = 8 << 10
)

// useDirect is switched off by tests to compare with the staged path.
var useDirect = true

// entryPool holds the whole-entry input and deflate output buffers; they
// start at 64 KiB and grow up to directMax.
var entryPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getEntryBuf() *[]byte { return entryPool.Get().(*[]byte) }

func putEntryBuf(b *[]byte) {
	*b = (*b)[:0]
	entryPool.Put(b)
}

// readEntry reads r into *p (emptied first) up to directMax bytes and
// reports whether it reached EOF within them.
func readEntry(r io.Reader, p *[]byte) (whole bool, err error) {
	b := (*p)[:0]
	defer func() { *p = b }()
	for {
		if len(b) == cap(b) {
			if cap(b) >= directMax {
				return false, nil
			}
			nb := make([]byte, len(b), min(max(4*cap(b), 64<<10), directMax))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// sliceWriter appends to a byte slice.
type sliceWriter struct{ b *[]byte }

func (s sliceWriter) Write(p []byte) (int, error) {
	*s.b = append(*s.b, p...)
	return len(p), nil
}

// sealed is an encrypted entry ready to be written: salt and verifier,
// ciphertext, authentication code.
type sealed struct {
	head [16 + verifierLen]byte
	data []byte
	code [authCodeLen]byte
}

// sealDirect compresses (or stores) and encrypts data, which is the whole
// entry, in place in the Writer's buffers, and fills in fh as
// encryptToTemp does. data must be *w.in.
func (w *Writer) sealDirect(fh *zip.FileHeader, data []byte) (*sealed, error) {
	method := uint16(zip.Deflate)
	if incompressible(data[:min(len(data), sampleSize)]) {
		method = zip.Store
	}
	s := &sealed{data: data} // stored: encrypted where it was read
	if method == zip.Deflate {
		if w.out == nil {
			w.out = getEntryBuf()
		}
		*w.out = (*w.out)[:0]
		if err := w.deflate(sliceWriter{w.out}, data); err != nil {
			return nil, fmt.Errorf("aeszip: deflate: %w", err)
		}
		s.data = *w.out
	}
	salt := s.head[:16]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("aeszip: salt: %w", err)
	}
	keys, err := deriveAESKeys(w.opt.Password, salt, 32)
	if err != nil {
		return nil, fmt.Errorf("aeszip: %w", err)
	}
	copy(s.head[16:], keys.verifier[:])
	ctr := newCTRStream(keys)
	for p := s.data; len(p) > 0; {
		c := p[:min(len(p), fuseChunk)]
		ctr.xor(c, c)
		keys.mac.Write(c)
		p = p[len(c):]
	}
	copy(s.code[:], keys.mac.Sum(nil))
	fh.Method = methodAES
	fh.Flags = 1
	fh.ReaderVersion = versionNeedAES
	fh.Extra = aesExtra(method)
	fh.UncompressedSize64 = uint64(len(data))
	fh.CompressedSize64 = uint64(len(s.head) + len(s.data) + len(s.code))
	return s, nil
}

// deflate compresses the whole of data into dst: small inputs with the
// stateless encoder, others with the pooled compressor at the level asked.
func (w *Writer) deflate(dst io.Writer, data []byte) error {
	if lvl := w.opt.level(); len(data) <= statelessMax && lvl >= flate.BestSpeed && lvl <= defaultLevel {
		return flate.StatelessDeflate(dst, data, true, nil)
	}
	if w.fw == nil {
		fw, err := getFlate(dst, w.opt.level())
		if err != nil {
			return err
		}
		w.fw = fw
	} else {
		w.fw.Reset(dst)
	}
	if _, err := w.fw.Write(data); err != nil {
		return err
	}
	return w.fw.Close()
}

// writeSealed writes the local header and the sealed entry into the
// archive.
func (w *Writer) writeSealed(fh *zip.FileHeader, s *sealed) error {
	dst, err := w.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	if _, err := dst.Write(s.head[:]); err != nil {
		return err
	}
	if _, err := dst.Write(s.data); err != nil {
		return err
	}
	_, err = dst.Write(s.code[:])
	return err
}
