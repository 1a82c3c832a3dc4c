package atrest

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

var errWriterClosed = errors.New("atrest: writer closed")

// Writer encrypts what is written to it. Close must be called to write the
// last chunk; without it the file reads as truncated.
type Writer struct {
	w     io.Writer
	hdr   *header
	aead  cipher.AEAD
	buf   []byte // plaintext of the pending chunk; capacity chunk + tag
	index uint32
	nonce [nonceSize]byte
	err   error
}

// NewWriter writes the header of a new encrypted file to w, with a fresh
// file key wrapped by mk and the default chunk size.
func NewWriter(w io.Writer, mk *MasterKey) (*Writer, error) {
	return NewWriterSize(w, mk, DefaultChunkSize)
}

// NewWriterSize is NewWriter with a chosen chunk size.
func NewWriterSize(w io.Writer, mk *MasterKey, chunkSize int) (*Writer, error) {
	if chunkSize < MinChunkSize || chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("atrest: chunk size %d out of range", chunkSize)
	}
	h := &header{chunkSize: chunkSize, keyID: mk.id}
	copy(h.raw[:], magic)
	h.raw[4] = version
	binary.BigEndian.PutUint32(h.raw[5:], uint32(chunkSize))
	copy(h.raw[9:], mk.id[:])
	if _, err := rand.Read(h.raw[keyHeaderLen:]); err != nil {
		return nil, fmt.Errorf("atrest: random header: %w", err)
	}
	fileKey := make([]byte, KeySize)
	if _, err := rand.Read(fileKey); err != nil {
		return nil, fmt.Errorf("atrest: file key: %w", err)
	}
	defer clear(fileKey)
	copy(h.wrappedKey(), mk.wrap(h.wrapNonce(), fileKey, h.raw[:keyHeaderLen]))
	aead, err := newGCM(fileKey)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h.raw[:]); err != nil {
		return nil, fmt.Errorf("atrest: write header: %w", err)
	}
	return &Writer{w: w, hdr: h, aead: aead, buf: make([]byte, 0, chunkSize+tagSize)}, nil
}

// Write encrypts p. A full chunk is sealed only once more data arrives, so
// that the last chunk is always known at Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == w.hdr.chunkSize {
			if err := w.seal(false); err != nil {
				return written, err
			}
		}
		n := min(len(p), w.hdr.chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
	}
	return written, nil
}

// Close seals the last chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		if errors.Is(w.err, errWriterClosed) {
			return nil
		}
		return w.err
	}
	if err := w.seal(true); err != nil {
		return err
	}
	w.err = errWriterClosed
	return nil
}

func (w *Writer) seal(last bool) error {
	if w.index == maxChunkIndex && !last {
		w.err = errors.New("atrest: file too large for its chunk size")
		return w.err
	}
	nonce := chunkNonce(&w.nonce, w.hdr.prefix(), w.index, last)
	sealed := w.aead.Seal(w.buf[:0], nonce, w.buf, w.hdr.raw[:])
	if _, err := w.w.Write(sealed); err != nil {
		w.err = fmt.Errorf("atrest: write chunk: %w", err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}
