package reports

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucket holds the reports, keyed by the acceptance time (Unix
// nanoseconds, big-endian) then the queue ID, so time ranges are scans.
var bucket = []byte("reports")

// purgeBatch bounds one purge transaction.
const purgeBatch = 1000

// Bolt is the report store in the gateway's bbolt database.
type Bolt struct {
	DB *bbolt.DB
}

// Init creates the bucket.
func (s *Bolt) Init() error {
	return s.DB.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
}

func key(t time.Time, qid string) []byte {
	k := make([]byte, 8, 8+len(qid))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, qid...)
}

// PutTx stores r in the caller's transaction (the message's acceptance).
func (s *Bolt) PutTx(tx *bbolt.Tx, r *Report) error {
	b, err := tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return fmt.Errorf("reports bucket: %w", err)
	}
	return b.Put(key(r.Time, r.QueueID), Marshal(r))
}

// AmendActionsTx sets the live actions of the report of message qid
// accepted at t, in the caller's transaction: a rewrite deferred past the
// reply that failed held the message for review instead. A report no
// longer here (shipped to the shared store, purged, never kept) is left,
// and so is one that does not decode (a replay counts it as corrupt): the
// hold this amends must commit all the same, or the message would stay
// unseen with its step retried.
func (s *Bolt) AmendActionsTx(tx *bbolt.Tx, t time.Time, qid string, actions []string) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	k := key(t, qid)
	raw := b.Get(k)
	if raw == nil {
		return nil
	}
	r, err := Unmarshal(raw)
	if err != nil {
		return nil
	}
	r.Actions = actions
	return b.Put(k, Marshal(r))
}

// ScanRaw calls fn with each encoded report accepted at or after since (a
// zero since: all), in time order; fn must not keep the slice. fn's error
// stops the scan.
func (s *Bolt) ScanRaw(ctx context.Context, since time.Time, fn func(raw []byte) error) error {
	return s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if since.After(time.Unix(0, 0)) {
			k, v = c.Seek(key(since, ""))
		}
		for n := 1; k != nil; k, v = c.Next() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	})
}

// ScanBack decodes the reports accepted at or after since, newest first,
// and calls fn with each until fn returns ErrStop (or another error,
// returned). A record that does not decode is skipped and counted.
func (s *Bolt) ScanBack(ctx context.Context, since time.Time, fn func(*Report) error) (corrupt int, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		floor := string(key(since, "")[:8])
		n := 0
		for k, v := c.Last(); k != nil && string(k[:8]) >= floor; k, v = c.Prev() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r, err := Unmarshal(v)
			if err != nil {
				corrupt++
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		err = nil
	}
	return corrupt, err
}

// ErrStop ends a ScanBack early without an error.
var ErrStop = errors.New("stop scan")

// Scan decodes the reports accepted at or after since and calls fn with
// each. A record that does not decode is skipped and counted.
func (s *Bolt) Scan(ctx context.Context, since time.Time, fn func(*Report) error) (corrupt int, err error) {
	err = s.ScanRaw(ctx, since, func(raw []byte) error {
		r, err := Unmarshal(raw)
		if errors.Is(err, ErrCorrupt) {
			corrupt++
			return nil
		}
		if err != nil {
			return err
		}
		return fn(r)
	})
	return corrupt, err
}

// Purge deletes the reports accepted before cutoff, in bounded
// transactions, and returns how many it deleted.
func (s *Bolt) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	end := key(cutoff, "")[:8]
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.DB.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, _ := c.First(); k != nil && n < purgeBatch && string(k[:8]) < string(end); k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge reports: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
