package link

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/crypto/token"
)

func putJSON(b *bbolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("link: encode: %w", err)
	}
	if err := b.Put(k, raw); err != nil {
		return fmt.Errorf("link: put: %w", err)
	}
	return nil
}

// Resolve finds the package a token's hash belongs to. It changes nothing
// and returns the package whatever its status; callers check
// Info.Status.
func (s *Store) Resolve(ctx context.Context, h token.Hash) (*Access, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var a *Access
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		a, err = resolveTx(tx, h)
		return err
	})
	return a, err
}

func resolveTx(tx *bbolt.Tx, h token.Hash) (*Access, error) {
	t, err := getToken(tx, h)
	if err != nil {
		return nil, err
	}
	r, err := getRecord(tx, t.Package)
	if err != nil {
		return nil, err
	}
	return &Access{Info: r.Info.clone(), Role: t.Role, Recipient: t.Recipient}, nil
}

// Get returns a package by ID.
func (s *Store) Get(ctx context.Context, id string) (*Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var info *Info
	err := s.db.View(func(tx *bbolt.Tx) error {
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		info = r.Info.clone()
		return nil
	})
	return info, err
}

// ByMessage returns the packages made for a message, oldest first.
func (s *Store) ByMessage(ctx context.Context, messageID string) ([]*Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*Info
	err := s.db.View(func(tx *bbolt.Tx) error {
		ids, err := idsOfMessage(tx, messageID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, err := getRecord(tx, id)
			if err != nil {
				return err
			}
			out = append(out, r.Info.clone())
		}
		return nil
	})
	return out, err
}

func idsOfMessage(tx *bbolt.Tx, messageID string) ([]string, error) {
	prefix := lp(messageID)
	var ids []string
	c := tx.Bucket(bucketByMsg).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids, nil
}

// Log returns the downloads of every package of a message, in time order
// within each package.
func (s *Store) Log(ctx context.Context, messageID string) ([]Download, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Download
	err := s.db.View(func(tx *bbolt.Tx) error {
		ids, err := idsOfMessage(tx, messageID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if out, err = appendLog(tx, out, id); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// PackageLog returns one package's downloads in time order.
func (s *Store) PackageLog(ctx context.Context, id string) ([]Download, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Download
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = appendLog(tx, nil, id)
		return err
	})
	return out, err
}

func appendLog(tx *bbolt.Tx, out []Download, id string) ([]Download, error) {
	c := tx.Bucket(bucketLog).Cursor()
	prefix := []byte(id)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
		var d Download
		if err := json.Unmarshal(v, &d); err != nil {
			return out, fmt.Errorf("link: decode download: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
