package hold

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// purgeBatch is how many records one purge transaction deletes.
const purgeBatch = 500

// PurgeResult counts what one Purge deleted.
type PurgeResult struct {
	Records int // rejected, cancelled and expired records
	Tokens  int // tokens that expired before the cutoff, of any record
}

// Purge deletes rejected, cancelled and expired records decided before
// cutoff, with their reports, tokens and index entries, calling OnPurge for
// each in the same transaction, and every token of any record that expired
// before cutoff. Each purged record is an audit event; audit events
// themselves are never deleted. Work goes in batches of bounded
// transactions; an OnPurge error stops the purge and is returned.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (PurgeResult, error) {
	var res PurgeResult
	end := timeKey(cutoff)
	for _, step := range []struct {
		bucket []byte
		one    func(tx *bbolt.Tx, key []byte) error
		count  *int
	}{
		{bucketPurge, s.purgeOne, &res.Records},
		{bucketTokenExp, purgeToken, &res.Tokens},
	} {
		for {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			n := 0
			err := s.db.Update(func(tx *bbolt.Tx) error {
				var keys [][]byte
				c := tx.Bucket(step.bucket).Cursor()
				for k, _ := c.First(); k != nil && len(keys) < purgeBatch && string(k[:8]) < string(end); k, _ = c.Next() {
					keys = append(keys, append([]byte(nil), k...))
				}
				for _, k := range keys {
					if err := step.one(tx, k); err != nil {
						return err
					}
				}
				n = len(keys)
				return nil
			})
			if err != nil {
				return res, fmt.Errorf("purge: %w", err)
			}
			*step.count += n
			if n < purgeBatch {
				break
			}
		}
	}
	return res, nil
}

// purgeToken deletes the token behind an expiry index key.
func purgeToken(tx *bbolt.Tx, key []byte) error {
	if err := tx.Bucket(bucketTokenExp).Delete(key); err != nil {
		return fmt.Errorf("delete token expiry: %w", err)
	}
	return deleteToken(tx, [32]byte(key[8:]))
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
