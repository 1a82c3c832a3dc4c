package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// ErrKeyMismatch means this node reads a key file whose content differs
// from the one the other nodes read.
var ErrKeyMismatch = errors.New("key file differs from the cluster's")

// KeyFile is a key every node must read with the same content (tokens,
// sessions and download links made on one node are checked on another).
type KeyFile struct {
	Name string // stable name, e.g. "link.key"
	Path string
}

// Fingerprint is a domain-separated SHA-256 of a key file: it identifies
// the key without revealing anything usable about it.
func Fingerprint(content []byte) string {
	h := sha256.New()
	h.Write([]byte("sendguard-key-fingerprint-v1\x00"))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// CheckKeys records each key file's fingerprint the first time any node
// starts and refuses a node whose file differs, naming the file.
func (s *Store) CheckKeys(ctx context.Context, keys []KeyFile) error {
	var errs []error
	for _, k := range keys {
		b, err := os.ReadFile(k.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read key file %s: %w", k.Path, err))
			continue
		}
		fp := Fingerprint(b)
		if _, err := s.pool.Exec(ctx, `INSERT INTO node_keys (name, fingerprint, first_node) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, k.Name, fp, s.opts.Node); err != nil {
			return fmt.Errorf("record key fingerprint: %w", err)
		}
		var have, first string
		if err := s.pool.QueryRow(ctx, `SELECT fingerprint, first_node FROM node_keys WHERE name = $1`, k.Name).Scan(&have, &first); err != nil {
			return fmt.Errorf("read key fingerprint: %w", err)
		}
		if have != fp {
			errs = append(errs, fmt.Errorf("%w: %s (%s) is not the file node %s uses: copy that node's %s here (fingerprint %.12s…, here %.12s…)",
				ErrKeyMismatch, k.Path, k.Name, first, k.Name, have, fp))
		}
	}
	return errors.Join(errs...)
}
