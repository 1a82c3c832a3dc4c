package atrest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	magic         = "SGAR"
	version       = 1
	nonceSize     = 12
	tagSize       = 16
	prefixSize    = 7
	wrappedSize   = KeySize + tagSize
	keyHeaderLen  = 4 + 1 + 4 + keyIDSize // the part bound into the key wrap
	headerSize    = keyHeaderLen + nonceSize + wrappedSize + prefixSize
	maxChunkIndex = 1<<32 - 1

	// DefaultChunkSize balances per-chunk overhead (16 bytes) and memory.
	DefaultChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSize bound what a header may declare.
	MinChunkSize = 16
	MaxChunkSize = 4 << 20
)

// Errors returned when reading.
var (
	// ErrFormat means the data is not a file written by this package.
	ErrFormat = errors.New("atrest: not an encrypted file")
	// ErrUnknownKey means no given master key has the header's key ID.
	ErrUnknownKey = errors.New("atrest: no master key for this file")
	// ErrTampered means authentication failed: modified, reordered or
	// spliced data, or data appended after the last chunk.
	ErrTampered = errors.New("atrest: file failed authentication")
	// ErrTruncated means the file ends before its last chunk.
	ErrTruncated = errors.New("atrest: file is truncated")
)

// header is the parsed fixed-size file header.
type header struct {
	raw       [headerSize]byte
	chunkSize int
	keyID     [keyIDSize]byte
}

func (h *header) wrapNonce() []byte { return h.raw[keyHeaderLen : keyHeaderLen+nonceSize] }
func (h *header) wrappedKey() []byte {
	return h.raw[keyHeaderLen+nonceSize : keyHeaderLen+nonceSize+wrappedSize]
}
func (h *header) prefix() []byte { return h.raw[headerSize-prefixSize:] }

func parseHeader(b []byte) (*header, error) {
	h := &header{}
	copy(h.raw[:], b)
	if string(b[:4]) != magic {
		return nil, ErrFormat
	}
	if b[4] != version {
		return nil, fmt.Errorf("%w: version %d", ErrFormat, b[4])
	}
	cs := binary.BigEndian.Uint32(b[5:])
	if cs < MinChunkSize || cs > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d", ErrFormat, cs)
	}
	h.chunkSize = int(cs)
	copy(h.keyID[:], b[9:])
	return h, nil
}

// chunkNonce builds the nonce of chunk i.
func chunkNonce(dst *[nonceSize]byte, prefix []byte, i uint32, last bool) []byte {
	copy(dst[:prefixSize], prefix)
	binary.BigEndian.PutUint32(dst[prefixSize:], i)
	dst[nonceSize-1] = 0
	if last {
		dst[nonceSize-1] = 1
	}
	return dst[:]
}
