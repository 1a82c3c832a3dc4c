package hold

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// purgeBatch is how many records one purge transaction deletes.
const purgeBatch = 500

// Purge deletes rejected, cancelled and expired records decided before
// cutoff, with their reports, tokens and index entries, and calls OnPurge
// for each in the same transaction. Each purge is an audit event; audit
// events themselves are never deleted. It returns how many it deleted.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var keys [][]byte
			end := timeKey(cutoff)
			c := tx.Bucket(bucketPurge).Cursor()
			for k, _ := c.First(); k != nil && len(keys) < purgeBatch; k, _ = c.Next() {
				if string(k[:8]) >= string(end) {
					break
				}
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := s.purgeOne(tx, k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

func (s *Store) purgeOne(tx *bbolt.Tx, key []byte) error {
	_, id := splitTimeID(key)
	if err := tx.Bucket(bucketPurge).Delete(key); err != nil {
		return fmt.Errorf("delete purge index: %w", err)
	}
	r, err := getRecord(tx, id)
	if err != nil {
		return err
	}
	if !r.State.purgeable() {
		return nil // stale entry; only final states are indexed, so unreachable
	}
	if s.opts.OnPurge != nil {
		if err := s.opts.OnPurge(tx, r.clone()); err != nil {
			return fmt.Errorf("purge hook for %s: %w", id, err)
		}
	}
	if err := deletePostings(tx, r); err != nil {
		return err
	}
	if err := addCount(tx, r, -1); err != nil {
		return err
	}
	if err := deleteTokensTx(tx, id); err != nil {
		return err
	}
	if err := tx.Bucket(bucketReports).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete report: %w", err)
	}
	if err := tx.Bucket(bucketRecords).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete record: %w", err)
	}
	_, err = s.appendEventTx(tx, &Event{
		MessageID: id, Actor: System, Action: ActionPurge, From: r.State, Reason: "retention passed",
	})
	return err
}
