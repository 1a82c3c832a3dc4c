package link

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
)

// orphanAge is how old a package directory without a record must be
// before Purge removes it: younger ones may belong to a Create in flight.
const orphanAge = time.Hour

// purgeBatch bounds the work of one write transaction.
const purgeBatch = 100

// PurgeStats counts what Purge removed.
type PurgeStats struct {
	Files   int // packages whose files were deleted
	Records int // packages whose records were deleted
	Orphans int // directories without a record
}

// Purge deletes the files of packages expired or revoked by now, and the
// records, tokens, codes and download logs of packages past expiry plus
// retention. The record change commits first and the files go after, so
// a crash in between leaves only files, which the next Purge sweeps as
// orphans.
func (s *Store) Purge(ctx context.Context, now time.Time) (PurgeStats, error) {
	var st PurgeStats
	for {
		ids, err := s.purgeStep(ctx, bucketFiles, now, s.dropFilesTx)
		st.Files += len(ids)
		s.removeDirs(ids)
		if err != nil || len(ids) < purgeBatch {
			if err != nil {
				return st, err
			}
			break
		}
	}
	for {
		ids, err := s.purgeStep(ctx, bucketExpiry, now, s.dropRecordTx)
		st.Records += len(ids)
		s.removeDirs(ids)
		if err != nil || len(ids) < purgeBatch {
			if err != nil {
				return st, err
			}
			break
		}
	}
	n, err := s.sweepOrphans(now)
	st.Orphans = n
	return st, err
}

// purgeStep applies drop to up to purgeBatch packages whose deadline in
// bucket is due, in one transaction, and returns their IDs.
func (s *Store) purgeStep(ctx context.Context, bucket []byte, now time.Time, drop func(*bbolt.Tx, string) error) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ids []string
	err := s.db.Update(func(tx *bbolt.Tx) error {
		ids = ids[:0]
		c := tx.Bucket(bucket).Cursor()
		limit := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
		var keys [][]byte
		for k, _ := c.First(); k != nil && len(ids) < purgeBatch; k, _ = c.Next() {
			if len(k) < 8 || bytes.Compare(k[:8], limit) > 0 {
				break
			}
			keys = append(keys, bytes.Clone(k))
			ids = append(ids, string(k[8:]))
		}
		for i, k := range keys {
			if err := tx.Bucket(bucket).Delete(k); err != nil {
				return fmt.Errorf("link: delete deadline: %w", err)
			}
			if err := drop(tx, ids[i]); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("link: purge: %w", err)
	}
	return ids, nil
}

func (s *Store) dropFilesTx(tx *bbolt.Tx, id string) error {
	r, err := getRecord(tx, id)
	if err != nil {
		return err
	}
	r.FilesPurged = true
	return putRecord(tx, r)
}

func (s *Store) dropRecordTx(tx *bbolt.Tx, id string) error {
	r, err := getRecord(tx, id)
	if err != nil {
		return err
	}
	for _, h := range r.Tokens {
		for _, b := range [][]byte{bucketTokens, bucketCodes} {
			if err := tx.Bucket(b).Delete(h[:]); err != nil {
				return fmt.Errorf("link: delete token: %w", err)
			}
		}
	}
	if err := tx.Bucket(bucketByMsg).Delete(append(lp(r.MessageID), id...)); err != nil {
		return fmt.Errorf("link: delete message index: %w", err)
	}
	lc := tx.Bucket(bucketLog).Cursor()
	prefix := []byte(id)
	for k, _ := lc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = lc.Seek(prefix) {
		if err := lc.Delete(); err != nil {
			return fmt.Errorf("link: delete log: %w", err)
		}
	}
	if !r.FilesPurged {
		// Revoked or expired files not yet dropped: their deadline key goes too.
		fb := tx.Bucket(bucketFiles)
		for _, t := range []time.Time{r.Expires, r.RevokedAt} {
			if !t.IsZero() {
				if err := fb.Delete(timeKey(t, id)); err != nil {
					return fmt.Errorf("link: delete file deadline: %w", err)
				}
			}
		}
	}
	if err := tx.Bucket(bucketPackages).Delete([]byte(id)); err != nil {
		return fmt.Errorf("link: delete package: %w", err)
	}
	return s.audit(tx, hold.Event{MessageID: r.MessageID, Action: "link_purged", Actor: hold.System})
}

func (s *Store) removeDirs(ids []string) {
	for _, id := range ids {
		if err := os.RemoveAll(s.pkgDir(id)); err != nil {
			s.log.Error("remove link files", "id", id, "err", err)
		}
	}
}

// sweepOrphans removes package directories that no live record owns and
// that are older than orphanAge.
func (s *Store) sweepOrphans(now time.Time) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("link: read directory: %w", err)
	}
	n := 0
	for _, e := range entries {
		id := e.Name()
		if !e.IsDir() || !validID(id) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < orphanAge {
			continue
		}
		owned := false
		err = s.db.View(func(tx *bbolt.Tx) error {
			r, err := getRecord(tx, id)
			if err == nil {
				owned = !r.FilesPurged
			}
			return nil
		})
		if err != nil || owned {
			continue
		}
		if err := os.RemoveAll(s.pkgDir(id)); err != nil {
			s.log.Error("remove orphan link files", "id", id, "err", err)
			continue
		}
		n++
	}
	return n, nil
}
