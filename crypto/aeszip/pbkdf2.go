package aeszip

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding"
	"encoding/binary"
	"fmt"
)

// pbkdf2SHA1 is PBKDF2-HMAC-SHA1 (RFC 8018 section 5.2), the same output as
// crypto/pbkdf2.Key(sha1.New, ...), at about half its CPU: WinZip AES asks
// for 1,000 rounds per entry and 66 bytes of output (4 blocks, 8,000 SHA-1
// compressions), which made it the largest single cost of encrypting a small
// attachment. Each round's inner and outer hash is exactly one 64-byte block
// (the pad state, then the 20-byte U padded to a block), so the round
// restores the saved pad state, writes that pre-padded block and reads the
// chaining value back as the digest, instead of hmac's Reset/Sum with its
// copies and padding writes. TestPBKDF2SameAsStdlib and FuzzPBKDF2 compare it
// with crypto/pbkdf2.
func pbkdf2SHA1(password string, salt []byte, iter, keyLen int) ([]byte, error) {
	if iter < 1 || keyLen < 1 {
		return nil, fmt.Errorf("pbkdf2: %d rounds, %d bytes", iter, keyLen)
	}
	var ipad, opad [sha1.BlockSize]byte
	key := []byte(password)
	if len(key) > sha1.BlockSize {
		s := sha1.Sum(key)
		key = s[:]
	}
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	h := sha1.New()
	un, ok1 := h.(encoding.BinaryUnmarshaler)
	ap, ok2 := h.(encoding.BinaryAppender)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("pbkdf2: sha1 state cannot be saved")
	}
	h.Write(ipad[:])
	inner, err := ap.AppendBinary(nil)
	if err != nil {
		return nil, fmt.Errorf("pbkdf2: %w", err)
	}
	h.Reset()
	h.Write(opad[:])
	outer, err := ap.AppendBinary(nil)
	if err != nil {
		return nil, fmt.Errorf("pbkdf2: %w", err)
	}
	clear(ipad[:])
	clear(opad[:])

	// The marshalled state is a 4-byte magic followed by the five chaining
	// words big-endian; after whole blocks those words are the digest.
	const stateDigest = 4
	if len(inner) < stateDigest+sha1.Size {
		return nil, fmt.Errorf("pbkdf2: unexpected sha1 state")
	}
	var blk [sha1.BlockSize]byte
	blk[sha1.Size] = 0x80
	binary.BigEndian.PutUint64(blk[sha1.BlockSize-8:], (sha1.BlockSize+sha1.Size)*8)
	round := func(state []byte, st []byte) ([]byte, error) {
		if err := un.UnmarshalBinary(state); err != nil {
			return st, err
		}
		h.Write(blk[:])
		st, err := ap.AppendBinary(st[:0])
		if err != nil {
			return st, err
		}
		copy(blk[:sha1.Size], st[stateDigest:stateDigest+sha1.Size])
		return st, nil
	}

	mac := hmac.New(sha1.New, []byte(password))
	out := make([]byte, 0, (keyLen+sha1.Size-1)/sha1.Size*sha1.Size)
	st := make([]byte, 0, len(inner))
	var t [sha1.Size]byte
	for n := uint32(1); len(out) < keyLen; n++ {
		mac.Reset()
		mac.Write(salt)
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], n)
		mac.Write(c[:])
		mac.Sum(blk[:0])
		blk[sha1.Size] = 0x80 // Sum wrote only the first 20 bytes; keep the padding
		copy(t[:], blk[:sha1.Size])
		for i := 1; i < iter; i++ {
			if st, err = round(inner, st); err != nil {
				return nil, fmt.Errorf("pbkdf2: %w", err)
			}
			if st, err = round(outer, st); err != nil {
				return nil, fmt.Errorf("pbkdf2: %w", err)
			}
			for j := range t {
				t[j] ^= blk[j]
			}
		}
		out = append(out, t[:]...)
	}
	clear(t[:])
	clear(blk[:])
	clear(inner)
	clear(outer)
	clear(st)
	return out[:keyLen], nil
}
