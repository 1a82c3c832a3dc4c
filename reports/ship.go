package reports

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Raw is one stored report as a shared store keeps it: the bbolt key's
// parts and the Marshal encoding.
type Raw struct {
	TimeNS  int64 // acceptance time, Unix nanoseconds
	QueueID string
	Data    []byte
}

// RawSink takes reports copied from a node's bbolt store (a PostgreSQL
// store). PutRaw must be idempotent by (TimeNS, QueueID): a batch whose
// local removal did not commit is copied again.
type RawSink interface {
	PutRaw(ctx context.Context, rs []Raw) error
}

// Put stores reports in one transaction of their own (imports, tests; the
// gateway stores them with PutTx in the acceptance transaction).
func (s *Bolt) Put(ctx context.Context, rs []*Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.DB.Update(func(tx *bbolt.Tx) error {
		for _, r := range rs {
			if err := s.PutTx(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Oldest returns up to n stored reports, oldest first, as Raw.
func (s *Bolt) Oldest(n int) ([]Raw, error) {
	var out []Raw
	err := s.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			if len(k) < 8 {
				continue
			}
			out = append(out, Raw{TimeNS: int64(binary.BigEndian.Uint64(k)), QueueID: string(k[8:]), Data: append([]byte(nil), v...)})
		}
		return nil
	})
	return out, err
}

// Remove deletes the given reports (copied elsewhere).
func (s *Bolt) Remove(rs []Raw) error {
	return s.DB.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		for _, r := range rs {
			if err := b.Delete(key(time.Unix(0, r.TimeNS), r.QueueID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// shipBatch bounds one copy to the shared store.
const shipBatch = 2000

// Ship moves the node's reports to the shared store: with storage.driver
// postgres the acceptance transaction still writes its report to bbolt
// (so a report exists exactly when its message was accepted, and the 250
// never waits on PostgreSQL); Ship copies them in batches and removes the
// local copies once the shared store has committed them. It returns how
// many it moved; on error the rest stays for the next call.
func Ship(ctx context.Context, from *Bolt, to RawSink) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		batch, err := from.Oldest(shipBatch)
		if err != nil {
			return total, fmt.Errorf("read local reports: %w", err)
		}
		if len(batch) == 0 {
			return total, nil
		}
		if err := to.PutRaw(ctx, batch); err != nil {
			return total, fmt.Errorf("copy reports: %w", err)
		}
		if err := from.Remove(batch); err != nil {
			return total, fmt.Errorf("remove copied reports: %w", err)
		}
		total += len(batch)
		if len(batch) < shipBatch {
			return total, nil
		}
	}
}

// PutRaw stores encoded reports (RawSink; imports and tests).
func (s *Bolt) PutRaw(ctx context.Context, rs []Raw) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.DB.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for _, r := range rs {
			k := key(time.Unix(0, r.TimeNS), r.QueueID)
			if b.Get(k) != nil {
				continue
			}
			if err := b.Put(k, r.Data); err != nil {
				return err
			}
		}
		return nil
	})
}

// Copy copies every report of from to to in batches, leaving from as it
// is (sendguard db import), and returns how many it copied.
func Copy(ctx context.Context, from *Bolt, to RawSink) (int, error) {
	total := 0
	var batch []Raw
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := to.PutRaw(ctx, batch); err != nil {
			return err
		}
		total += len(batch)
		batch = batch[:0]
		return nil
	}
	err := from.DB.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) < 8 {
				return nil
			}
			batch = append(batch, Raw{TimeNS: int64(binary.BigEndian.Uint64(k)), QueueID: string(k[8:]), Data: append([]byte(nil), v...)})
			if len(batch) == shipBatch {
				return flush()
			}
			return nil
		})
	})
	if err == nil {
		err = flush()
	}
	return total, err
}
