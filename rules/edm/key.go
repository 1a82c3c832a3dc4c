package edm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the length of a generated key in bytes.
const KeySize = 32

// ErrSameDir is returned when the key file would sit next to the index: a
// copy of the data directory must not carry what it takes to test guesses.
var ErrSameDir = errors.New("edm: the key file must not be in the index's directory")

// CheckKeyPlacement refuses a key file in the same directory as the index.
func CheckKeyPlacement(keyFile, indexFile string) error {
	kd, err1 := filepath.Abs(filepath.Dir(keyFile))
	id, err2 := filepath.Abs(filepath.Dir(indexFile))
	if err1 != nil || err2 != nil {
		return errors.Join(err1, err2)
	}
	if kd == id {
		return ErrSameDir
	}
	return nil
}

// LoadKey reads a key file (hex, as CreateKey writes it).
func LoadKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read edm key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("edm key %s is accessible to others (mode %04o): chmod 600 it", path, fi.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("edm key %s: not a hex key of at least 16 bytes", path)
	}
	return key, nil
}

// LoadOrCreateKey reads the key file, creating it with a new random key and
// mode 0600 when it does not exist. created reports which happened.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("generate edm key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create edm key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("write edm key: %w", err)
	}
	return key, true, nil
}

// hasher computes the truncated keyed hash of normalised values. It is not
// safe for concurrent use; hmac.Reset restores the keyed state without
// re-deriving it.
type hasher struct {
	mac hash.Hash
	buf [sha256.Size]byte
	// A value that fits one block with its padding (almost all) is hashed
	// by writing whole, already padded blocks into the SHA-256 states
	// after the key's inner and outer pads and reading the state back:
	// two compressions, without hmac's and Sum's copies of the states,
	// their padding writes and an interface call per step.
	inner, outer []byte    // the states after ipad and opad (marshalled)
	d            hash.Hash // a SHA-256 digest, restored from them
	blk          [sha256.BlockSize]byte
	st           []byte // the marshalled state read back
}

func newHasher(key []byte) *hasher {
	h := &hasher{mac: hmac.New(sha256.New, key), d: sha256.New()}
	// the pads as crypto/hmac derives them from the key
	k := key
	if len(k) > sha256.BlockSize {
		s := sha256.Sum256(k)
		k = s[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], k)
	copy(opad[:], k)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	state := func(pad []byte) []byte {
		d := sha256.New()
		d.Write(pad)
		s, err := d.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			panic(err)
		}
		return s
	}
	h.inner, h.outer = state(ipad[:]), state(opad[:])
	h.st = make([]byte, 0, len(h.inner))
	return h
}

func (h *hasher) sum(v string) uint64 { return h.sumBytes([]byte(v)) }

// shortMax is the longest value hashed by sumBytes's one-block path: the
// value, 0x80 and the 8-byte bit length fit one block.
const shortMax = sha256.BlockSize - 9

func (h *hasher) sumBytes(v []byte) uint64 {
	if len(v) > shortMax {
		h.mac.Reset()
		h.mac.Write(v)
		return binary.BigEndian.Uint64(h.mac.Sum(h.buf[:0]))
	}
	// inner: SHA-256(ipad ‖ v), one padded block after the pad's state
	n := copy(h.blk[:], v)
	h.blk[n] = 0x80
	clear(h.blk[n+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(h.blk[sha256.BlockSize-8:], uint64(sha256.BlockSize+len(v))*8)
	in := h.compress(h.inner)
	// outer: SHA-256(opad ‖ inner), likewise
	copy(h.blk[:], in)
	h.blk[sha256.Size] = 0x80
	clear(h.blk[sha256.Size+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(h.blk[sha256.BlockSize-8:], uint64(sha256.BlockSize+sha256.Size)*8)
	return binary.BigEndian.Uint64(h.compress(h.outer))
}

// compress restores state, writes h.blk (a whole block, compressed at
// once) and returns the chaining value after it: the hash of a message
// whose last, padded block h.blk is.
func (h *hasher) compress(state []byte) []byte {
	if err := h.d.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic(err)
	}
	h.d.Write(h.blk[:])
	st, err := h.d.(encoding.BinaryAppender).AppendBinary(h.st[:0])
	if err != nil {
		panic(err)
	}
	// the marshalled form: a 4-byte magic, then the eight state words
	return st[4 : 4+sha256.Size]
}

// keyID identifies a key without revealing it, so that an index is never
// used with a key other than the one that built it.
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sendguard edm key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
