package aeszip

import (
	"archive/zip"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Errors returned by the reader.
var (
	// ErrPassword means the password verifier (AES) or check byte
	// (ZipCrypto) does not match: almost certainly a wrong password.
	ErrPassword = errors.New("aeszip: wrong password")
	// ErrAuthentication means the entry's HMAC or CRC does not match its
	// data: tampered, corrupt, or (ZipCrypto, 1 in 256) a wrong password
	// that passed the check byte.
	ErrAuthentication = errors.New("aeszip: entry failed authentication")
	// ErrUnsupported is an encryption or compression this package cannot
	// read (PKWARE strong encryption, LZMA inside AES, ...).
	ErrUnsupported = errors.New("aeszip: unsupported entry")
	// ErrNotEncrypted is returned by Open for a plain entry.
	ErrNotEncrypted = errors.New("aeszip: entry is not encrypted")
	// ErrSize means the entry inflates to more or less than its header says.
	ErrSize = errors.New("aeszip: entry size does not match its header")
)

// IsEncrypted reports whether a zip entry is encrypted in any way
// (general-purpose bit 0, or WinZip AES method 99), for inspection code
// that must treat such an entry as unreadable without a password.
func IsEncrypted(f *zip.File) bool {
	return f.Flags&1 != 0 || f.Method == methodAES
}

// aesInfo is the content of a 0x9901 extra field.
type aesInfo struct {
	vendorVersion uint16
	strength      byte
	method        uint16
}

func parseAESExtra(extra []byte) (aesInfo, bool) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return aesInfo{}, false
		}
		if id == extraAES && size >= 7 && extra[2] == 'A' && extra[3] == 'E' {
			return aesInfo{
				vendorVersion: binary.LittleEndian.Uint16(extra),
				strength:      extra[4],
				method:        binary.LittleEndian.Uint16(extra[5:]),
			}, true
		}
		extra = extra[size:]
	}
	return aesInfo{}, false
}

// Open returns the plaintext of the encrypted entry f: WinZip AES (AE-1 or
// AE-2, 128/192/256-bit) or ZipCrypto, stored or deflated. A wrong password
// is reported by Open as ErrPassword (for ZipCrypto 1 in 256 wrong passwords
// pass and fail later). The authentication code (AE-2), CRC (AE-1,
// ZipCrypto) and uncompressed size are checked when the entry has been read
// to its end: the final Read returns ErrAuthentication (tampered, corrupt,
// or for ZipCrypto possibly a wrong password) or ErrSize (an authentic
// AE-2 entry whose size differs from its header) instead of io.EOF, and
// everything read before must then be discarded. Open never
// returns more bytes than the header's uncompressed size, which bounds
// decompression bombs.
func Open(f *zip.File, password string) (io.ReadCloser, error) {
	if !IsEncrypted(f) {
		return nil, ErrNotEncrypted
	}
	if f.Flags&(1<<6) != 0 {
		return nil, fmt.Errorf("%w: PKWARE strong encryption", ErrUnsupported)
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("aeszip: open entry: %w", err)
	}
	if f.Method == methodAES {
		return openAES(f, raw, password)
	}
	return openZipCrypto(f, raw, password)
}

func openAES(f *zip.File, raw io.Reader, password string) (io.ReadCloser, error) {
	info, ok := parseAESExtra(f.Extra)
	if !ok {
		return nil, fmt.Errorf("%w: AES entry without 0x9901 extra field", ErrUnsupported)
	}
	if info.vendorVersion != aesVendorAE1 && info.vendorVersion != aesVendorAE2 {
		return nil, fmt.Errorf("%w: AES vendor version %d", ErrUnsupported, info.vendorVersion)
	}
	keyLen, err := aesKeyLen(info.strength)
	if err != nil {
		return nil, err
	}
	saltLen := keyLen / 2
	overhead := uint64(saltLen + verifierLen + authCodeLen)
	if f.CompressedSize64 < overhead {
		return nil, fmt.Errorf("%w: AES entry shorter than its overhead", ErrAuthentication)
	}
	head := make([]byte, saltLen+verifierLen)
	if _, err := io.ReadFull(raw, head); err != nil {
		return nil, fmt.Errorf("aeszip: read salt: %w", err)
	}
	keys, err := deriveAESKeys(password, head[:saltLen], keyLen)
	if err != nil {
		return nil, fmt.Errorf("aeszip: %w", err)
	}
	if keys.verifier != [verifierLen]byte(head[saltLen:]) {
		return nil, ErrPassword
	}
	dec := &aesDecrypter{
		r:   io.LimitReader(raw, int64(f.CompressedSize64-overhead)),
		raw: raw,
		ctr: newCTRStream(keys),
		mac: keys.mac,
	}
	var wantCRC *uint32
	if info.vendorVersion == aesVendorAE1 {
		wantCRC = &f.CRC32
	}
	e, err := newEntryReader(dec, info.method, f.UncompressedSize64, wantCRC, dec.check)
	if err != nil {
		return nil, err
	}
	e.macked = info.vendorVersion == aesVendorAE2
	return e, nil
}

func openZipCrypto(f *zip.File, raw io.Reader, password string) (io.ReadCloser, error) {
	if f.CompressedSize64 < zipCryptoHeaderLen {
		return nil, fmt.Errorf("%w: ZipCrypto entry shorter than its header", ErrAuthentication)
	}
	keys := newZipCryptoKeys(password)
	var hdr [zipCryptoHeaderLen]byte
	if _, err := io.ReadFull(raw, hdr[:]); err != nil {
		return nil, fmt.Errorf("aeszip: read encryption header: %w", err)
	}
	keys.decrypt(hdr[:], hdr[:])
	want := byte(f.CRC32 >> 24)
	if f.Flags&(1<<3) != 0 {
		want = byte(f.ModifiedTime >> 8)
	}
	if hdr[zipCryptoHeaderLen-1] != want {
		return nil, ErrPassword
	}
	dec := &zipCryptoReader{
		r:    io.LimitReader(raw, int64(f.CompressedSize64-zipCryptoHeaderLen)),
		keys: keys,
	}
	crc := f.CRC32
	return newEntryReader(dec, f.Method, f.UncompressedSize64, &crc, func() error { return nil })
}

// entryReader decompresses decrypted data and runs the end-of-entry checks.
type entryReader struct {
	src     io.Reader // decompressed plaintext
	closer  io.Closer // the decompressor, if any
	remain  uint64    // bytes still expected
	crc     hash.Hash32
	wantCRC *uint32
	final   func() error
	macked  bool // final verifies a MAC over all of the ciphertext
	err     error
}

func newEntryReader(dec io.Reader, method uint16, size uint64, wantCRC *uint32, final func() error) (*entryReader, error) {
	e := &entryReader{remain: size, wantCRC: wantCRC, final: final}
	switch method {
	case zip.Store:
		e.src = dec
	case zip.Deflate:
		fr := flate.NewReader(dec)
		e.src, e.closer = fr, fr
	default:
		return nil, fmt.Errorf("%w: compression method %d", ErrUnsupported, method)
	}
	if wantCRC != nil {
		e.crc = crc32.NewIEEE()
	}
	return e, nil
}

func (e *entryReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if uint64(len(p)) > e.remain {
		// Read one byte beyond the declared size to detect a longer entry.
		p = p[:e.remain+1]
	}
	n, err := e.src.Read(p)
	if uint64(n) > e.remain {
		e.err = e.fail(ErrSize)
		return 0, e.err
	}
	e.remain -= uint64(n)
	if e.crc != nil {
		e.crc.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		e.err = e.finish()
	case err != nil:
		e.err = e.fail(err)
	}
	return n, e.err
}

// fail explains an entry that cannot be read to a good end. With a MAC
// (AE-2), a failing MAC means tampering or a damaged file, and a valid one
// means authentic but bad content (err: corrupt deflate data, or a size
// that differs from the header). Without a MAC (ZipCrypto, AE-1), a wrong
// password, tampering and corruption look alike: all are ErrAuthentication.
func (e *entryReader) fail(err error) error {
	if !e.macked {
		return fmt.Errorf("%w: %w", ErrAuthentication, err)
	}
	if ferr := e.final(); ferr != nil {
		if errors.Is(ferr, ErrAuthentication) {
			return ferr
		}
		return fmt.Errorf("aeszip: read entry: %w", ferr)
	}
	if errors.Is(err, ErrSize) {
		return err
	}
	return fmt.Errorf("aeszip: read entry: %w", err)
}

// finish runs at the end of the decompressed data.
func (e *entryReader) finish() error {
	if e.remain != 0 {
		return e.fail(ErrSize)
	}
	if err := e.final(); err != nil {
		if errors.Is(err, ErrAuthentication) {
			return err
		}
		return fmt.Errorf("aeszip: %w", err)
	}
	if e.wantCRC != nil && e.crc.Sum32() != *e.wantCRC {
		return ErrAuthentication
	}
	return io.EOF
}

func (e *entryReader) Close() error {
	if e.closer != nil {
		return e.closer.Close()
	}
	return nil
}

// Decrypt writes the plaintext of the encrypted entry f to w and returns
// nil only if the whole entry was read and verified. On error, w has
// received unverified data that must be discarded.
func Decrypt(f *zip.File, password string, w io.Writer) (int64, error) {
	rc, err := Open(f, password)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(w, rc)
}
