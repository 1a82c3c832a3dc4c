package atrest

import (
	"bufio"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// Reader decrypts a file written by Writer. Read returns io.EOF only after
// the authenticated last chunk; any other ending is an error.
type Reader struct {
	r     *bufio.Reader
	hdr   *header
	aead  cipher.AEAD
	buf   []byte // sealed chunk
	out   []byte // its plaintext; a separate buffer keeps buf intact if Open fails
	plain []byte // authenticated plaintext not yet returned
	index uint32
	nonce [nonceSize]byte
	done  bool
	err   error
}

// NewReader reads the header from r and unwraps the file key with whichever
// of keys has the header's key ID (several keys allow rotation).
func NewReader(r io.Reader, keys ...*MasterKey) (*Reader, error) {
	br := bufio.NewReaderSize(r, 4096)
	var raw [headerSize]byte
	if _, err := io.ReadFull(br, raw[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: short header", ErrFormat)
		}
		return nil, fmt.Errorf("atrest: read header: %w", err)
	}
	h, err := parseHeader(raw[:])
	if err != nil {
		return nil, err
	}
	var mk *MasterKey
	for _, k := range keys {
		if k.id == h.keyID {
			mk = k
			break
		}
	}
	if mk == nil {
		return nil, ErrUnknownKey
	}
	fileKey, err := mk.unwrap(h.wrapNonce(), h.wrappedKey(), h.raw[:keyHeaderLen])
	if err != nil {
		return nil, err
	}
	defer clear(fileKey)
	aead, err := newGCM(fileKey)
	if err != nil {
		return nil, err
	}
	return &Reader{r: br, hdr: h, aead: aead, buf: make([]byte, h.chunkSize+tagSize), out: make([]byte, h.chunkSize)}, nil
}

func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next reads, authenticates and decrypts one chunk.
func (r *Reader) next() error {
	n, err := io.ReadFull(r.r, r.buf)
	switch {
	case errors.Is(err, io.EOF):
		return ErrTruncated // no last chunk seen
	case errors.Is(err, io.ErrUnexpectedEOF):
		// A short chunk must be the last one.
	case err != nil:
		return fmt.Errorf("atrest: read chunk: %w", err)
	}
	if n < tagSize {
		return ErrTruncated
	}
	last := n < len(r.buf)
	if !last {
		_, perr := r.r.Peek(1)
		switch {
		case errors.Is(perr, io.EOF):
			last = true
		case perr != nil:
			return fmt.Errorf("atrest: read chunk: %w", perr)
		}
	}
	plain, err := r.open(r.buf[:n], last)
	if err != nil {
		// Tell truncation at a chunk boundary (a non-last chunk at the end)
		// and appended data (a last chunk followed by more) from tampering.
		if _, err2 := r.open(r.buf[:n], !last); err2 == nil {
			if last {
				return ErrTruncated
			}
			return fmt.Errorf("%w: data after the last chunk", ErrTampered)
		}
		return ErrTampered
	}
	if r.index == maxChunkIndex && !last {
		return ErrTampered
	}
	r.index++
	r.plain = plain
	r.done = last
	return nil
}

func (r *Reader) open(sealed []byte, last bool) ([]byte, error) {
	nonce := chunkNonce(&r.nonce, r.hdr.prefix(), r.index, last)
	return r.aead.Open(r.out[:0], nonce, sealed, r.hdr.raw[:])
}
