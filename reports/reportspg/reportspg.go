// Package reportspg keeps the stored analysis reports in the PostgreSQL
// database several sendguard nodes share (storage.driver postgres), so
// policy replay, shadow counts and the dashboard see every node's
// traffic. Nodes write reports to bbolt at acceptance and copy them here
// in batches (reports.Ship); rows are ordered like bbolt's keys, so scans
// and purges are range scans on the primary key. The table comes with
// pgstore's migrations.
package reportspg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/reports"
)

// Store is the shared report store.
type Store struct{ pool *pgxpool.Pool }

// New uses pool's database, migrated by sendguard db migrate.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ reports.RawSink = (*Store)(nil)

// purgeBatch bounds one purge statement, as bbolt's.
const purgeBatch = 1000

// PutRaw inserts a batch in one statement; a report already there (same
// time and queue ID, copied again after a crash) is left as it is.
func (s *Store) PutRaw(ctx context.Context, rs []reports.Raw) error {
	if len(rs) == 0 {
		return nil
	}
	ts := make([]int64, len(rs))
	ids := make([]string, len(rs))
	data := make([][]byte, len(rs))
	for i, r := range rs {
		ts[i], ids[i], data[i] = r.TimeNS, r.QueueID, r.Data
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO node_reports (t_ns, queue_id, report)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])
		ON CONFLICT DO NOTHING`, ts, ids, data)
	if err != nil {
		return fmt.Errorf("store reports: %w", err)
	}
	return nil
}

// Put stores reports (imports, tests).
func (s *Store) Put(ctx context.Context, rs []*reports.Report) error {
	raw := make([]reports.Raw, len(rs))
	for i, r := range rs {
		raw[i] = reports.Raw{TimeNS: r.Time.UnixNano(), QueueID: r.QueueID, Data: reports.Marshal(r)}
	}
	return s.PutRaw(ctx, raw)
}

func sinceNS(since time.Time) int64 {
	if since.After(time.Unix(0, 0)) {
		return since.UnixNano()
	}
	return 0
}

// ScanRaw is reports.Bolt's: the encodings accepted at or after since, in
// time order, streamed from one query.
func (s *Store) ScanRaw(ctx context.Context, since time.Time, fn func(raw []byte) error) error {
	rows, err := s.pool.Query(ctx, `SELECT report FROM node_reports WHERE t_ns >= $1 ORDER BY t_ns, queue_id`, sinceNS(since))
	if err != nil {
		return fmt.Errorf("scan reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		// Rows already read into pgx's buffer keep coming after ctx ends:
		// a cancelled scan stops here, not at the end of the result.
		if err := ctx.Err(); err != nil {
			return err
		}
		// The raw value is only valid until Next: fn must not keep it,
		// as with bbolt.
		if err := fn(rows.RawValues()[0]); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan reports: %w", err)
	}
	return nil
}

// Scan is reports.Bolt's.
func (s *Store) Scan(ctx context.Context, since time.Time, fn func(*reports.Report) error) (corrupt int, err error) {
	err = s.ScanRaw(ctx, since, func(raw []byte) error {
		r, err := reports.Unmarshal(raw)
		if errors.Is(err, reports.ErrCorrupt) {
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

// ScanBack is reports.Bolt's: newest first until fn returns
// reports.ErrStop.
func (s *Store) ScanBack(ctx context.Context, since time.Time, fn func(*reports.Report) error) (corrupt int, err error) {
	floor := since.UnixNano()
	if since.IsZero() {
		floor = 0
	}
	rows, err := s.pool.Query(ctx, `SELECT report FROM node_reports WHERE t_ns >= $1 ORDER BY t_ns DESC, queue_id DESC`, floor)
	if err != nil {
		return 0, fmt.Errorf("scan reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return corrupt, err
		}
		r, err := reports.Unmarshal(rows.RawValues()[0])
		if err != nil {
			corrupt++
			continue
		}
		if err := fn(r); err != nil {
			if errors.Is(err, reports.ErrStop) {
				return corrupt, nil
			}
			return corrupt, err
		}
	}
	if err := rows.Err(); err != nil {
		return corrupt, fmt.Errorf("scan reports: %w", err)
	}
	return corrupt, nil
}

// Purge deletes the reports accepted before cutoff in bounded statements
// and returns how many this call deleted. Nodes purging at once each
// delete different rows (a row is deleted once), so the counts they
// audit add up to what was purged.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	end := cutoff.UnixNano()
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM node_reports WHERE (t_ns, queue_id) IN (
			SELECT t_ns, queue_id FROM node_reports WHERE t_ns < $1 ORDER BY t_ns, queue_id LIMIT $2 FOR UPDATE SKIP LOCKED)`, end, purgeBatch)
		if err != nil {
			return total, fmt.Errorf("purge reports: %w", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// Count is how many reports are stored.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM node_reports`).Scan(&n)
	return n, err
}
