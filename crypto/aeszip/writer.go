package aeszip

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/sendguard/sendguard/internal/spillbuf"
)

// ErrTooLarge is returned for an entry whose data reaches 4 GiB: the writer
// does not produce Zip64 entries.
var ErrTooLarge = errors.New("aeszip: entry too large (4 GiB limit)")

// errClosed is returned by Add and Close after Close.
var errClosed = errors.New("aeszip: writer closed")

const (
	copyBufSize   = 64 << 10
	maxEntrySize  = 1<<32 - 1
	creatorUnix   = 3
	versionMadeBy = creatorUnix<<8 | 63 // APPNOTE 6.3: UTF-8 names
	entryMode     = 0o644
)

// Writer writes an encrypted zip archive to an io.Writer, one entry at a
// time. It is not safe for concurrent use.
type Writer struct {
	opt    Options
	zw     *zip.Writer
	fw     *flate.Writer    // pooled; nil until the first deflated entry
	ent    *spillbuf.Buffer // the entry being built; nil until the first Add
	bw     *bufio.Writer    // buffers ent (deflate writes in small pieces)
	buf    *[]byte          // pooled copy buffer
	cbuf   *[]byte          // pooled ciphertext buffer
	in     *[]byte          // pooled whole-entry buffer (direct.go)
	out    *[]byte          // pooled deflate output of a whole entry
	used   map[string]struct{}
	err    error // sticky: the archive is broken after a failed copy
	closed bool

	// patch is set when the archive's destination can overwrite what it
	// was given (io.WriterAt, as the rewriter's spill buffer): a large
	// AES entry then streams into the archive after a local header whose
	// sizes are filled in afterwards, with no staging copy (streamEntry).
	patch io.WriterAt
	base  int64        // bytes the destination held before the archive
	count *countWriter // bytes of the archive the destination received
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewWriter returns a Writer that writes an archive to w with the given
// options. Close must be called to write the central directory; it does
// not close w.
func NewWriter(w io.Writer, opt Options) (*Writer, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.Encryption == ZipCrypto && opt.Logger != nil {
		opt.Logger.Warn("zip attachments use ZipCrypto, which is weak; prefer AES256",
			"component", "aeszip")
	}
	zw := &Writer{opt: opt, used: make(map[string]struct{})}
	if p, ok := w.(patchable); ok {
		zw.patch, zw.base = p, p.Size()
		zw.count = &countWriter{w: w}
		w = zw.count
	}
	zw.zw = zip.NewWriter(w)
	return zw, nil
}

// patchable is a destination that large entries stream into (see
// Writer.patch); Size is what it holds, where the archive starts.
type patchable interface {
	io.Writer
	io.WriterAt
	Size() int64
}

// Add reads r to EOF and stores it as an encrypted, deflated entry named
// SanitizeName(name) (made unique within the archive), modified at the
// given time. If reading r fails, nothing is added and the Writer stays
// usable, except for an entry streamed into a patchable destination (see
// Writer.patch) that fails after its first 512 KiB; if writing the
// archive fails, the Writer is broken and every later call returns that
// error. It returns the name used.
func (w *Writer) Add(name string, modified time.Time, r io.Reader) (string, error) {
	if w.closed {
		return "", errClosed
	}
	if w.err != nil {
		return "", w.err
	}
	fh := &zip.FileHeader{}
	setDOSTime(fh, modified)
	fh.SetMode(entryMode)
	fh.CreatorVersion = versionMadeBy
	var direct *sealed
	if w.opt.Encryption == AES256 && useDirect {
		if w.in == nil {
			w.in = getEntryBuf()
		}
		whole, err := readEntry(r, w.in)
		if err != nil {
			return "", fmt.Errorf("aeszip: read entry data: %w", err)
		}
		if whole {
			if direct, err = w.sealDirect(fh, *w.in); err != nil {
				return "", err
			}
		} else {
			r = io.MultiReader(bytes.NewReader(*w.in), r)
		}
	}
	if direct == nil && w.patch != nil && w.opt.Encryption == AES256 {
		return w.streamEntry(fh, name, modified, r)
	}
	if direct == nil {
		if err := w.prepareTemp(); err != nil {
			return "", err
		}
		if err := w.encryptToTemp(fh, r); err != nil {
			return "", err
		}
	}
	entryName := w.nameEntry(fh, name, modified)
	var err error
	if direct != nil {
		err = w.writeSealed(fh, direct)
	} else {
		err = w.copyEntry(fh)
	}
	if err != nil {
		w.err = fmt.Errorf("aeszip: write entry: %w", err)
		return "", w.err
	}
	return entryName, nil
}

// nameEntry gives fh its unique sanitised name and the name and time
// extra fields, and returns the name.
func (w *Writer) nameEntry(fh *zip.FileHeader, name string, modified time.Time) string {
	entryName := UniqueName(SanitizeName(name), w.used)
	enc := encodeName(entryName, w.opt.Names)
	fh.Name = enc.raw
	if enc.utf8 {
		fh.Flags |= 1 << 11
	}
	fh.Extra = append(fh.Extra, enc.extra...)
	fh.Extra = append(fh.Extra, extendedTimestamp(modified)...)
	return entryName
}

// streamEntry writes an AES entry larger than the direct path takes
// straight into the archive: the local header goes out with zero sizes,
// the salt, verifier, ciphertext and authentication code follow as they
// are produced, and the sizes are then written into the header where it
// lies (and into the central directory, which Close writes from fh).
// The entry's bytes are those encryptToTemp and copyEntry write, without
// a staging copy of the whole ciphertext that a large attachment would
// otherwise cost in a temp file. Once the header is out, any error
// breaks the Writer: the archive holds part of the entry.
func (w *Writer) streamEntry(fh *zip.FileHeader, name string, modified time.Time, r io.Reader) (string, error) {
	w.getBufs()
	var entryName string
	var off int64 // where the local header starts
	started := false
	n, size, err := w.encryptEntry(fh, r, func() (io.Writer, error) {
		started = true // from here on the archive is being written
		entryName = w.nameEntry(fh, name, modified)
		if err := w.zw.Flush(); err != nil {
			return nil, err
		}
		off = w.base + w.count.n
		return w.zw.CreateRaw(fh)
	})
	if err == nil {
		fh.UncompressedSize64, fh.CompressedSize64 = uint64(n), uint64(size)
		fh.UncompressedSize, fh.CompressedSize = uint32(n), uint32(size)
		// The local header: signature, versions, flags, method, time and
		// date (14 bytes), then CRC-32 (0 for AE-2), compressed and
		// uncompressed size.
		var sizes [8]byte
		binary.LittleEndian.PutUint32(sizes[:4], fh.CompressedSize)
		binary.LittleEndian.PutUint32(sizes[4:], fh.UncompressedSize)
		if err = w.zw.Flush(); err == nil {
			_, err = w.patch.WriteAt(sizes[:], off+18)
		}
		if err != nil {
			err = fmt.Errorf("aeszip: write entry sizes: %w", err)
		}
	}
	if err != nil {
		if started {
			w.err = err
		}
		return "", err
	}
	return entryName, nil
}

// prepareTemp readies the entry buffer (memory first, a temp file for
// large entries) and the pooled buffers on first use, and empties it.
func (w *Writer) prepareTemp() error {
	if w.ent == nil {
		w.ent = spillbuf.New(w.opt.TempDir, "zip")
		w.getBufs()
		w.bw = getBufWriter(w.ent)
		return nil
	}
	if err := w.ent.Truncate(0); err != nil {
		return fmt.Errorf("aeszip: %w", err)
	}
	w.bw.Reset(w.ent)
	return nil
}

// getBufs takes the read and cipher buffers from their pool for the
// Writer's life (Close gives them back): both entry paths use them.
func (w *Writer) getBufs() {
	if w.buf == nil {
		w.buf, w.cbuf = getBuf(), getBuf()
	}
}

// encryptToTemp compresses (or, for data that does not compress, stores)
// and encrypts r into the entry buffer and fills in the method, flags,
// sizes, CRC and encryption extra field of fh (see encryptEntry).
func (w *Writer) encryptToTemp(fh *zip.FileHeader, r io.Reader) error {
	n, size, err := w.encryptEntry(fh, r, func() (io.Writer, error) { return w.bw, nil })
	if err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("aeszip: write temp file: %w", err)
	}
	fh.UncompressedSize64, fh.CompressedSize64 = uint64(n), uint64(size)
	return nil
}

// encryptEntry compresses (or, for data that does not compress, stores)
// and encrypts r: it fills in fh's method, flags, encryption extra field
// and (ZipCrypto) CRC, then writes the entry's data to the writer open
// returns, called once fh is complete but for the sizes. It returns the
// bytes read and written.
func (w *Writer) encryptEntry(fh *zip.FileHeader, r io.Reader, open func() (io.Writer, error)) (n, size int64, err error) {
	buf := *w.buf
	n0, err := io.ReadFull(r, buf[:sampleSize])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, 0, fmt.Errorf("aeszip: read entry data: %w", err)
	}
	sample := buf[:n0]
	method := uint16(zip.Deflate)
	if incompressible(sample) {
		method = zip.Store
	}
	var (
		head    []byte // written before the data: salt and verifier, or the ZipCrypto header
		aesKeys *aesKeys
		zcKeys  *zipCryptoKeys
	)
	switch w.opt.Encryption {
	case AES256:
		salt := make([]byte, 16, 16+verifierLen)
		if _, err := rand.Read(salt); err != nil {
			return 0, 0, fmt.Errorf("aeszip: salt: %w", err)
		}
		if aesKeys, err = deriveAESKeys(w.opt.Password, salt, 32); err != nil {
			return 0, 0, fmt.Errorf("aeszip: %w", err)
		}
		head = append(salt, aesKeys.verifier[:]...)
		fh.Method = methodAES
		fh.Flags = 1
		fh.ReaderVersion = versionNeedAES
		fh.Extra = aesExtra(method)
	case ZipCrypto:
		// Bit 3 (data descriptor) makes the check byte the high byte of
		// the DOS time, which is known before the CRC.
		fh.Method = method
		fh.Flags = 1 | 1<<3
		fh.ReaderVersion = versionNeedZip2
		zcKeys = newZipCryptoKeys(w.opt.Password)
		head = make([]byte, zipCryptoHeaderLen)
		if _, err := rand.Read(head[:zipCryptoHeaderLen-1]); err != nil {
			return 0, 0, fmt.Errorf("aeszip: encryption header: %w", err)
		}
		head[zipCryptoHeaderLen-1] = byte(fh.ModifiedTime >> 8)
		zcKeys.encrypt(head, head)
	}
	dst, err := open()
	if err != nil {
		return 0, 0, fmt.Errorf("aeszip: write entry: %w", err)
	}
	out := &countWriter{w: dst}
	if _, err := out.Write(head); err != nil {
		return 0, 0, fmt.Errorf("aeszip: write entry: %w", err)
	}
	var (
		sink   io.Writer
		finish = func() error { return nil }
	)
	if aesKeys != nil {
		enc := newAESEncrypter(out, aesKeys, *w.cbuf)
		sink, finish = enc, enc.Finish
	} else {
		sink = &zipCryptoWriter{w: out, keys: zcKeys, buf: *w.cbuf}
	}
	in := sink
	if method == zip.Deflate {
		if w.fw == nil {
			fw, err := getFlate(sink, w.opt.level())
			if err != nil {
				return 0, 0, fmt.Errorf("aeszip: deflate: %w", err)
			}
			w.fw = fw
		} else {
			w.fw.Reset(sink)
		}
		in = w.fw
	}
	crc := crc32.NewIEEE()
	if zcKeys != nil {
		in = io.MultiWriter(in, crc)
	}
	if _, err := in.Write(sample); err != nil {
		return 0, 0, fmt.Errorf("aeszip: write entry: %w", err)
	}
	n = int64(n0)
	if n0 == sampleSize {
		m, err := io.CopyBuffer(in, io.LimitReader(r, maxEntrySize+1-n), buf)
		n += m
		if err != nil {
			return 0, 0, fmt.Errorf("aeszip: read entry data: %w", err)
		}
	}
	if n > maxEntrySize {
		return 0, 0, ErrTooLarge
	}
	if method == zip.Deflate {
		if err := w.fw.Close(); err != nil {
			return 0, 0, fmt.Errorf("aeszip: deflate: %w", err)
		}
	}
	if err := finish(); err != nil {
		return 0, 0, fmt.Errorf("aeszip: write entry: %w", err)
	}
	if out.n > maxEntrySize {
		return 0, 0, ErrTooLarge
	}
	if zcKeys != nil {
		fh.CRC32 = crc.Sum32() // AE-2 stores 0
	}
	return n, out.n, nil
}

// copyEntry writes the local header and the buffered entry into the
// archive.
func (w *Writer) copyEntry(fh *zip.FileHeader) error {
	dst, err := w.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	return w.ent.CopyTo(dst, *w.buf)
}

// Close writes the central directory, removes the temp file and returns
// the pooled buffers. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return errClosed
	}
	w.closed = true
	var errs []error
	if w.err != nil {
		errs = append(errs, w.err)
	} else if err := w.zw.Close(); err != nil {
		errs = append(errs, fmt.Errorf("aeszip: write central directory: %w", err))
	}
	if w.ent != nil {
		if err := w.ent.Close(); err != nil {
			errs = append(errs, fmt.Errorf("aeszip: temp file: %w", err))
		}
		putBufWriter(w.bw)
		w.ent, w.bw = nil, nil
	}
	if w.buf != nil {
		putBuf(w.buf)
		putBuf(w.cbuf)
		w.buf, w.cbuf = nil, nil
	}
	if w.fw != nil {
		putFlate(w.fw, w.opt.level())
		w.fw = nil
	}
	for _, b := range []**[]byte{&w.in, &w.out} {
		if *b != nil {
			putEntryBuf(*b)
			*b = nil
		}
	}
	return errors.Join(errs...)
}

// aesExtra is the 0x9901 extra field: AE-2, vendor "AE", AES-256 and the
// real compression method.
func aesExtra(method uint16) []byte {
	b := make([]byte, 0, 11)
	b = binary.LittleEndian.AppendUint16(b, extraAES)
	b = binary.LittleEndian.AppendUint16(b, 7)
	b = binary.LittleEndian.AppendUint16(b, aesVendorAE2)
	b = append(b, 'A', 'E', aesStrength256)
	return binary.LittleEndian.AppendUint16(b, method)
}

// extendedTimestamp is the 0x5455 extra field with the modification time
// in UTC, which CreateRaw does not add.
func extendedTimestamp(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	secs := t.Unix()
	if secs < 0 || secs > 1<<32-1 {
		return nil
	}
	b := make([]byte, 0, 9)
	b = binary.LittleEndian.AppendUint16(b, 0x5455)
	b = binary.LittleEndian.AppendUint16(b, 5)
	b = append(b, 1) // modification time present
	return binary.LittleEndian.AppendUint32(b, uint32(secs))
}

// setDOSTime fills the MS-DOS date and time fields from t's wall clock,
// clamped to the representable range 1980–2107.
func setDOSTime(fh *zip.FileHeader, t time.Time) {
	if t.IsZero() || t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	fh.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	fh.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
}

// String describes the Writer without its password.
func (w *Writer) String() string { return "aeszip.Writer(" + w.opt.String() + ")" }

// GoString keeps %#v from printing the password.
func (w *Writer) GoString() string { return w.String() }
