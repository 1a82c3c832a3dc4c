package aeszip

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
)

// useSHANI selects the assembly derivation where the CPU has the SHA
// extensions (tests switch it to compare).
var useSHANI = hasSHANI()

// pbkdf2SHA1 is PBKDF2-HMAC-SHA1 (RFC 8018 section 5.2), the same output as
// crypto/pbkdf2.Key(sha1.New, ...): WinZip AES asks for 1,000 rounds per
// entry and 66 bytes of output (4 blocks, 8,000 SHA-1 compressions), the
// largest single cost of encrypting a small attachment. On amd64 with SHA-NI
// it runs in assembly (pbkdf2_amd64.s), elsewhere in Go.
// TestPBKDF2SameAsStdlib and FuzzPBKDF2 compare both with crypto/pbkdf2.
func pbkdf2SHA1(password string, salt []byte, iter, keyLen int) ([]byte, error) {
	if iter < 1 || keyLen < 1 {
		return nil, fmt.Errorf("pbkdf2: %d rounds, %d bytes", iter, keyLen)
	}
	if useSHANI {
		return pbkdf2SHA1NI(password, salt, iter, keyLen)
	}
	return pbkdf2SHA1Generic(password, salt, iter, keyLen)
}

// padStates returns a SHA-1 hash and its marshalled states after the HMAC
// key's ipad and opad blocks.
func padStates(password string) (h hash.Hash, inner, outer []byte, err error) {
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
	defer clear(ipad[:])
	defer clear(opad[:])
	h = sha1.New()
	ap, ok := h.(encoding.BinaryAppender)
	if _, ok2 := h.(encoding.BinaryUnmarshaler); !ok || !ok2 {
		return nil, nil, nil, fmt.Errorf("pbkdf2: sha1 state cannot be saved")
	}
	h.Write(ipad[:])
	if inner, err = ap.AppendBinary(nil); err != nil {
		return nil, nil, nil, fmt.Errorf("pbkdf2: %w", err)
	}
	h.Reset()
	h.Write(opad[:])
	if outer, err = ap.AppendBinary(nil); err != nil {
		return nil, nil, nil, fmt.Errorf("pbkdf2: %w", err)
	}
	// The marshalled state is a 4-byte magic followed by the five chaining
	// words big-endian; after whole blocks those words are the digest.
	if len(inner) < stateDigest+sha1.Size || len(outer) < stateDigest+sha1.Size {
		return nil, nil, nil, fmt.Errorf("pbkdf2: unexpected sha1 state")
	}
	return h, inner, outer, nil
}

// stateDigest is where the chaining words start in a marshalled SHA-1.
const stateDigest = 4

// pbkdf2SHA1Generic is about half crypto/pbkdf2's CPU: each round's inner
// and outer hash is exactly one 64-byte block (the pad state, then the
// 20-byte U padded to a block), so the round restores the saved pad state,
// writes that pre-padded block and reads the chaining value back as the
// digest, instead of hmac's Reset/Sum with its copies and padding writes.
func pbkdf2SHA1Generic(password string, salt []byte, iter, keyLen int) ([]byte, error) {
	h, inner, outer, err := padStates(password)
	if err != nil {
		return nil, err
	}
	un := h.(encoding.BinaryUnmarshaler)
	ap := h.(encoding.BinaryAppender)

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
