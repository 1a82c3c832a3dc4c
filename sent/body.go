package sent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/spool"
)

// Optional body retention (sent.keep_body, off by default): the message as
// received, encrypted at rest (crypto/atrest, a key per file wrapped by the
// master key) in BodyDir, kept and purged with its record. Only an admin
// can read it back (the console's "original message" download, audited).

// BodyFile names a kept body.
func (s *Store) BodyFile(id string) string { return filepath.Join(s.BodyDir, id+".sgar") }

// KeepsBodies reports whether bodies are kept.
func (s *Store) KeepsBodies() bool { return s.BodyDir != "" && s.Key != nil }

// SaveBody writes message id's body encrypted, once: file, fsync, rename,
// directory fsync, before the record that names it commits.
func (s *Store) SaveBody(id string, body io.Reader) error {
	if !spool.ValidID(id) {
		return fmt.Errorf("save body: invalid id")
	}
	final := s.BodyFile(id)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	if err := os.MkdirAll(s.BodyDir, 0o700); err != nil {
		return fmt.Errorf("save body: %w", err)
	}
	f, err := os.CreateTemp(s.BodyDir, id+".tmp*")
	if err != nil {
		return fmt.Errorf("save body: %w", err)
	}
	defer os.Remove(f.Name())
	w, err := atrest.NewWriter(f, s.Key)
	if err == nil {
		_, err = io.Copy(w, body)
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(s.BodyDir); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("save body: %w", err)
	}
	return nil
}

// OpenBody returns message id's kept body, decrypted; ErrNotFound when
// none is kept.
func (s *Store) OpenBody(id string) (io.ReadCloser, error) {
	if !s.KeepsBodies() || !spool.ValidID(id) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.BodyFile(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r, err := atrest.NewReader(f, s.Key)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open kept body: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

func (s *Store) removeBodies(ids []string) {
	if s.BodyDir == "" {
		return
	}
	for _, id := range ids {
		os.Remove(s.BodyFile(id))
	}
}
