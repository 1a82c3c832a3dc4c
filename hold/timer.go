package hold

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// tickBatch bounds the records one Tick decides, so a backlog after a long
// stop is worked off in bounded steps.
const tickBatch = 1000

// Due returns up to limit held records whose deadline is at or before now,
// earliest first. It reads only the deadline index and those records.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		ids := dueIDs(tx, now, limit)
		for _, id := range ids {
			r, err := getRecord(tx, id)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func dueIDs(tx *bbolt.Tx, now time.Time, limit int) []string {
	end := timeKey(now)
	var ids []string
	c := tx.Bucket(bucketDeadlines).Cursor()
	for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
		if string(k[:8]) > string(end) {
			break
		}
		_, id := splitTimeID(k)
		ids = append(ids, id)
	}
	return ids
}

// NextDeadline returns the earliest pending deadline, if any.
func (s *Store) NextDeadline(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	var t time.Time
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketDeadlines).Cursor().First(); k != nil {
			t, _ = splitTimeID(k)
			ok = true
		}
		return nil
	})
	return t, ok, err
}

// Tick decides every record whose deadline passed by now: a delay is
// released, any other hold expires. Each record is its own transaction, so
// one failing release hook does not hold up the others; it is retried on
// the next tick. It returns how many records it decided. A record decided
// meanwhile by someone else is skipped.
func (s *Store) Tick(ctx context.Context, now time.Time) (int, error) {
	var ids []string
	if err := s.db.View(func(tx *bbolt.Tx) error {
		ids = dueIDs(tx, now, tickBatch)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("read deadlines: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		err := s.opts.Commit(func(tx *bbolt.Tx) error {
			r, err := getRecord(tx, id)
			if err != nil {
				return err
			}
			if r.State.Final() {
				return errRollback
			}
			_, _, err = s.transitionTx(tx, id, deadlineOutcome(r.Kind), System, "deadline passed", transitionOpts{}, now)
			return err
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, errRollback), errors.Is(err, ErrNotFound):
		default:
			s.log.Warn("deadline transition failed", "id", id, "err", err)
			errs = append(errs, fmt.Errorf("deadline of %s: %w", id, err))
		}
	}
	return n, errors.Join(errs...)
}

// Run calls Tick until ctx ends: at the earliest pending deadline, when a
// new hold is created (Wake), and at least every interval. When retention
// > 0 it purges once an hour. Deadlines are stored, so a restart resumes
// every timer. A deadline whose transition fails stays due, so after a
// failed Tick the next one waits, doubling from a second up to interval,
// instead of retrying at once.
func (s *Store) Run(ctx context.Context, interval, retention time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: tick interval %v", ErrInvalid, interval)
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	var lastPurge time.Time
	var backoff time.Duration
	for {
		now := s.now()
		if _, err := s.Tick(ctx, now); err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, time.Second), interval)
			s.log.Warn("deadline transitions failed; retrying later", "retry_in", backoff, "err", err)
		} else {
			backoff = 0
		}
		if retention > 0 && now.Sub(lastPurge) >= time.Hour {
			res, err := s.Purge(ctx, now.Add(-retention))
			if err != nil && ctx.Err() == nil {
				s.log.Warn("purge", "err", err)
			}
			if res.Records+res.Tokens > 0 {
				s.log.Info("purged", "records", res.Records, "tokens", res.Tokens)
			}
			lastPurge = now
		}
		wait := interval
		if next, ok, err := s.NextDeadline(ctx); err == nil && ok {
			wait = min(interval, max(next.Sub(s.now()), time.Millisecond, backoff))
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake: // t.Reset above discards a stale tick (Go 1.23+)
		case <-t.C:
		}
	}
}
