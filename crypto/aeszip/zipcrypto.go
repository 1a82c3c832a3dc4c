package aeszip

import (
	"hash/crc32"
	"io"
)

// zipCryptoHeaderLen is the encryption header that precedes the data.
const zipCryptoHeaderLen = 12

// zipCryptoKeys is the traditional PKWARE cipher state (APPNOTE 6.1).
type zipCryptoKeys [3]uint32

func newZipCryptoKeys(password string) *zipCryptoKeys {
	k := &zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		k.update(password[i])
	}
	return k
}

func crc32Update(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (k *zipCryptoKeys) update(b byte) {
	k[0] = crc32Update(k[0], b)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crc32Update(k[2], byte(k[1]>>24))
}

func (k *zipCryptoKeys) streamByte() byte {
	t := k[2] | 2
	return byte((t * (t ^ 1)) >> 8)
}

func (k *zipCryptoKeys) encrypt(dst, src []byte) {
	for i, p := range src {
		dst[i] = p ^ k.streamByte()
		k.update(p)
	}
}

func (k *zipCryptoKeys) decrypt(dst, src []byte) {
	for i, c := range src {
		p := c ^ k.streamByte()
		dst[i] = p
		k.update(p)
	}
}

// zipCryptoWriter encrypts everything written to it into w.
type zipCryptoWriter struct {
	w    io.Writer
	keys *zipCryptoKeys
	buf  []byte
}

func (z *zipCryptoWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), len(z.buf))
		z.keys.encrypt(z.buf[:n], p[:n])
		if _, err := z.w.Write(z.buf[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// zipCryptoReader decrypts r in place.
type zipCryptoReader struct {
	r    io.Reader
	keys *zipCryptoKeys
}

func (z *zipCryptoReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.keys.decrypt(p[:n], p[:n])
	return n, err
}
