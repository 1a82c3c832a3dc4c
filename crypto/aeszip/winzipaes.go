package aeszip

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// WinZip AES constants (https://www.winzip.com/en/support/aes-encryption/).
const (
	methodAES       = 99
	extraAES        = 0x9901
	aesVendorAE1    = 1
	aesVendorAE2    = 2
	aesStrength256  = 3
	pbkdf2Rounds    = 1000
	verifierLen     = 2
	authCodeLen     = 10
	versionNeedAES  = 51
	versionNeedZip2 = 20
)

// aesKeyLen maps the 0x9901 strength byte to the AES key length; the salt
// is half of it.
func aesKeyLen(strength byte) (int, error) {
	switch strength {
	case 1:
		return 16, nil
	case 2:
		return 24, nil
	case 3:
		return 32, nil
	}
	return 0, fmt.Errorf("%w: AES strength %d", ErrUnsupported, strength)
}

type aesKeys struct {
	block    cipher.Block
	rk       *[240]byte // AES-256 round keys for the AES-NI keystream, or nil
	mac      hash.Hash
	verifier [verifierLen]byte
}

// deriveAESKeys runs PBKDF2-HMAC-SHA1 over the password and salt and splits
// the output into the AES key, the HMAC key and the password verifier.
func deriveAESKeys(password string, salt []byte, keyLen int) (*aesKeys, error) {
	dk, err := pbkdf2SHA1(password, salt, pbkdf2Rounds, 2*keyLen+verifierLen)
	if err != nil {
		return nil, fmt.Errorf("derive keys: %w", err)
	}
	block, err := aes.NewCipher(dk[:keyLen])
	if err != nil {
		return nil, fmt.Errorf("aes cipher: %w", err)
	}
	k := &aesKeys{block: block, rk: expandKey256(dk[:keyLen]), mac: hmac.New(sha1.New, dk[keyLen:2*keyLen])}
	copy(k.verifier[:], dk[2*keyLen:])
	clear(dk)
	return k, nil
}

// ctrStream is AES-CTR as WinZip defines it: the counter is a 64-bit
// little-endian integer in the first 8 bytes of the block (the rest zero),
// starting at 1. crypto/cipher's CTR counts big-endian, hence this type.
type ctrStream struct {
	block   cipher.Block
	rk      *[240]byte // when set, aesCTR256 makes the keystream
	counter uint64
	ctr     [aes.BlockSize]byte
	ks      [ksBlocks * aes.BlockSize]byte
	ksPos   int // next unused keystream byte in ks; len(ks) means refill
}

// ksBlocks is how many keystream blocks are produced per refill (a
// multiple of aesCTR256's eight).
const ksBlocks = 64

func newCTRStream(keys *aesKeys) *ctrStream {
	s := &ctrStream{block: keys.block, rk: keys.rk}
	s.ksPos = len(s.ks)
	return s
}

func (s *ctrStream) refill() {
	s.ksPos = 0
	if s.rk != nil {
		aesCTR256(s.rk, s.counter, &s.ks[0], ksBlocks)
		s.counter += ksBlocks
		return
	}
	for i := 0; i < ksBlocks; i++ {
		s.counter++
		binary.LittleEndian.PutUint64(s.ctr[:8], s.counter)
		s.block.Encrypt(s.ks[i*aes.BlockSize:], s.ctr[:])
	}
}

// xor sets dst = src XOR keystream; dst and src may be the same slice.
func (s *ctrStream) xor(dst, src []byte) {
	for len(src) > 0 {
		if s.ksPos == len(s.ks) {
			s.refill()
		}
		n := subtle.XORBytes(dst, src, s.ks[s.ksPos:])
		s.ksPos += n
		dst, src = dst[n:], src[n:]
	}
}

// aesEncrypter encrypts what is written to it, MACs the ciphertext and
// writes the ciphertext to w. Finish appends the authentication code.
type aesEncrypter struct {
	w   io.Writer
	ctr *ctrStream
	mac hash.Hash
	buf []byte
}

func newAESEncrypter(w io.Writer, keys *aesKeys, buf []byte) *aesEncrypter {
	return &aesEncrypter{w: w, ctr: newCTRStream(keys), mac: keys.mac, buf: buf}
}

func (e *aesEncrypter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), len(e.buf), fuseChunk) // MAC from L1
		ct := e.buf[:n]
		e.ctr.xor(ct, p[:n])
		e.mac.Write(ct)
		if _, err := e.w.Write(ct); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// Finish writes the 10-byte authentication code.
func (e *aesEncrypter) Finish() error {
	_, err := e.w.Write(e.mac.Sum(nil)[:authCodeLen])
	return err
}

// aesDecrypter reads exactly n bytes of ciphertext from r, decrypting them
// and feeding them to the MAC. After EOF, check compares the MAC with the
// stored authentication code that follows the ciphertext.
type aesDecrypter struct {
	r   io.Reader // limited to the ciphertext
	raw io.Reader // positioned after the ciphertext once r is drained
	ctr *ctrStream
	mac hash.Hash
}

func (d *aesDecrypter) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.mac.Write(p[:n])
		d.ctr.xor(p[:n], p[:n])
	}
	return n, err
}

// check drains any unread ciphertext and verifies the authentication code.
func (d *aesDecrypter) check() error {
	if _, err := io.Copy(io.Discard, d); err != nil {
		return fmt.Errorf("read ciphertext: %w", err)
	}
	var code [authCodeLen]byte
	if _, err := io.ReadFull(d.raw, code[:]); err != nil {
		return fmt.Errorf("read authentication code: %w", err)
	}
	if !hmac.Equal(code[:], d.mac.Sum(nil)[:authCodeLen]) {
		return ErrAuthentication
	}
	return nil
}
