package link

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"go.etcd.io/bbolt"
)

// Export hands every package whose files are still stored to fn, oldest
// deadline first, for `sendguard db import`. Packages already purged of
// their files serve nothing and are left out.
func (s *Store) Export(ctx context.Context, fn func(*Exported) error) error {
	var ids []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, _ []byte) error {
			if len(k) > 8 {
				ids = append(ids, string(k[8:]))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		var e *Exported
		err := s.db.View(func(tx *bbolt.Tx) error {
			r, err := getRecord(tx, id)
			if err != nil {
				return err
			}
			e = &Exported{Info: *r.Info.clone()}
			for _, h := range r.Tokens {
				v := tx.Bucket(bucketTokens).Get(h[:])
				if v == nil {
					continue
				}
				var t tokenRec
				if err := json.Unmarshal(v, &t); err != nil {
					return fmt.Errorf("link: decode token: %w", err)
				}
				e.Tokens = append(e.Tokens, TokenRef{Hash: h, Role: t.Role, Recipient: t.Recipient})
			}
			e.Log, err = appendLog(tx, nil, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("link: export %s: %w", id, err)
		}
		if e.Info.FilesPurged {
			continue
		}
		e.Open = func(n int) (io.ReadCloser, int64, error) {
			f, err := os.Open(s.filePath(id, n))
			if err != nil {
				return nil, 0, err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, 0, err
			}
			return f, st.Size(), nil
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
