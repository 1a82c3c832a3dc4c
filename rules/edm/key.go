package edm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
}

func newHasher(key []byte) *hasher { return &hasher{mac: hmac.New(sha256.New, key)} }

func (h *hasher) sum(v string) uint64 { return h.sumBytes([]byte(v)) }

func (h *hasher) sumBytes(v []byte) uint64 {
	h.mac.Reset()
	h.mac.Write(v)
	return binary.BigEndian.Uint64(h.mac.Sum(h.buf[:0]))
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
