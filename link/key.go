package link

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sendguard/sendguard/crypto/atrest"
)

// KeyFile is the master key's file name in the data directory.
const KeyFile = "link.key"

// LoadOrCreateKey reads the 32-byte master key at path, or creates it (mode
// 0600, fsynced with its directory) when the file does not exist. A file
// of any other size, or readable by group or others, is refused.
func LoadOrCreateKey(path string) (*atrest.MasterKey, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("link: stat key: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("link: key file %s is accessible to group or others (mode %v)", path, st.Mode().Perm())
		}
		if len(b) != atrest.KeySize {
			return nil, fmt.Errorf("link: key file %s has %d bytes, want %d", path, len(b), atrest.KeySize)
		}
		return atrest.NewMasterKey(b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("link: read key: %w", err)
	}
	b, err = atrest.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := writeKey(path, b); err != nil {
		return nil, err
	}
	return atrest.NewMasterKey(b)
}

// writeKey creates the key file exclusively, so two processes starting
// together cannot each write a different key.
func writeKey(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("link: create key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("link: write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("link: fsync key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("link: close key: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("link: open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("link: fsync dir: %w", err)
	}
	return nil
}
