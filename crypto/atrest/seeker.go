package atrest

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// ReadSeeker decrypts a stored file with random access, for HTTP range
// requests (http.ServeContent). Every chunk is authenticated before any of
// it is returned; the last chunk is checked when the ReadSeeker is made, so
// a truncated or extended file is refused up front. It is not safe for
// concurrent use.
type ReadSeeker struct {
	ra      io.ReaderAt
	hdr     *header
	aead    cipher.AEAD
	size    int64 // plaintext size
	fsize   int64 // file size
	nchunks int64
	pos     int64
	sealed  []byte
	out     []byte
	cached  int64  // index of the chunk in plain, or -1
	plain   []byte // plaintext of chunk cached
	nonce   [nonceSize]byte
}

// NewReadSeeker opens the encrypted file of fileSize bytes behind ra.
func NewReadSeeker(ra io.ReaderAt, fileSize int64, keys ...*MasterKey) (*ReadSeeker, error) {
	if fileSize < headerSize {
		return nil, fmt.Errorf("%w: short header", ErrFormat)
	}
	r, err := NewReader(io.NewSectionReader(ra, 0, headerSize), keys...)
	if err != nil {
		return nil, err
	}
	s := &ReadSeeker{ra: ra, hdr: r.hdr, aead: r.aead, cached: -1,
		fsize: fileSize, sealed: r.buf, out: r.out}
	sealedSize := int64(r.hdr.chunkSize + tagSize)
	body := fileSize - headerSize
	full, rem := body/sealedSize, body%sealedSize
	switch {
	case rem == 0 && full > 0:
		s.nchunks = full
		s.size = full * int64(r.hdr.chunkSize)
	case rem >= tagSize:
		s.nchunks = full + 1
		s.size = full*int64(r.hdr.chunkSize) + rem - tagSize
	default:
		return nil, ErrTruncated
	}
	if s.nchunks-1 > maxChunkIndex {
		return nil, ErrTampered
	}
	if err := s.load(s.nchunks - 1); err != nil {
		return nil, err
	}
	return s, nil
}

// Size is the plaintext size.
func (s *ReadSeeker) Size() int64 { return s.size }

// load authenticates and decrypts chunk i into s.plain.
func (s *ReadSeeker) load(i int64) error {
	if s.cached == i {
		return nil
	}
	s.cached = -1
	off := headerSize + i*int64(s.hdr.chunkSize+tagSize)
	n := min(int64(len(s.sealed)), s.fsize-off)
	got, err := s.ra.ReadAt(s.sealed[:n], off)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			return ErrTruncated // the file shrank after it was opened
		}
		return fmt.Errorf("atrest: read chunk: %w", err)
	}
	last := i == s.nchunks-1
	open := func(last bool) ([]byte, error) {
		nonce := chunkNonce(&s.nonce, s.hdr.prefix(), uint32(i), last)
		return s.aead.Open(s.out[:0], nonce, s.sealed[:n], s.hdr.raw[:])
	}
	plain, err := open(last)
	if err != nil {
		if _, err2 := open(!last); err2 == nil && last {
			return ErrTruncated
		}
		return ErrTampered
	}
	s.plain, s.cached = plain, i
	return nil
}

func (s *ReadSeeker) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	cs := int64(s.hdr.chunkSize)
	if err := s.load(s.pos / cs); err != nil {
		return 0, err
	}
	n := copy(p, s.plain[s.pos%cs:])
	s.pos += int64(n)
	return n, nil
}

// Seek implements io.Seeker over the plaintext.
func (s *ReadSeeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errors.New("atrest: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("atrest: negative position")
	}
	s.pos = offset
	return offset, nil
}
