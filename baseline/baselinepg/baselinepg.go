// Package baselinepg keeps senders' behaviour baselines in the PostgreSQL
// database several sendguard nodes share (storage.driver postgres), so a
// node knows the senders another node has seen and the baselines survive
// any node. Reading a record is one primary-key lookup; each node merges
// its observations every few seconds in one transaction that locks the
// senders' rows, so no node's observations overwrite another's. The
// table comes with pgstore's migrations.
package baselinepg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/baseline"
)

// Store is baseline.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	// downUntil (Unix nanoseconds): after a failed read, reads fail at
	// once until then, so an outage does not slow every message.
	downUntil atomic.Int64
}

// A read is on the acceptance path: it is bounded, and after a failure
// the store is not asked again for a while (the policy then sees no
// history for senders this node has not cached).
const (
	loadTimeout = 300 * time.Millisecond
	downFor     = 5 * time.Second
)

// ErrUnavailable is a read refused while the database recently failed.
var ErrUnavailable = errors.New("shared baselines unavailable")

// New uses pool's database, migrated by sendguard db migrate.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ baseline.Store = (*Store)(nil)

// Load implements baseline.Store.
func (s *Store) Load(ctx context.Context, sender string) (baseline.Record, bool, error) {
	if time.Now().UnixNano() < s.downUntil.Load() {
		return baseline.Record{}, false, ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM node_baselines WHERE sender = $1`, sender).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return baseline.Record{}, false, nil
	}
	if err != nil {
		s.downUntil.Store(time.Now().Add(downFor).UnixNano())
		return baseline.Record{}, false, fmt.Errorf("load baseline: %w", err)
	}
	r, err := baseline.Unmarshal(v)
	if err != nil {
		return baseline.Record{}, false, fmt.Errorf("load baseline: %w", err)
	}
	return r, true, nil
}

// Merge implements baseline.Store: the senders' rows are created if
// missing and locked in key order (two nodes merging overlapping senders
// wait for each other, never deadlock), updated, and committed at once.
func (s *Store) Merge(ctx context.Context, obs map[string][]baseline.Observation, apply func(*baseline.Record, []baseline.Observation)) (map[string]baseline.Record, error) {
	keys := make([]string, 0, len(obs))
	for k := range obs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]baseline.Record, len(keys))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// An empty record stands for "none yet" only inside this
		// transaction: it is replaced before the commit.
		if _, err := tx.Exec(ctx, `INSERT INTO node_baselines (sender, record, updated)
			SELECT k, '', now() FROM unnest($1::text[]) AS k ORDER BY k
			ON CONFLICT (sender) DO NOTHING`, keys); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT sender, record FROM node_baselines WHERE sender = ANY($1) ORDER BY sender FOR UPDATE`, keys)
		if err != nil {
			return err
		}
		stored := make(map[string][]byte, len(keys))
		for rows.Next() {
			var k string
			var v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return err
			}
			stored[k] = v
		}
		if err := rows.Err(); err != nil {
			return err
		}
		vals := make([][]byte, len(keys))
		for i, k := range keys {
			var r baseline.Record
			if v := stored[k]; len(v) > 0 {
				r, _ = baseline.Unmarshal(v) // a corrupt record starts anew
			}
			apply(&r, obs[k])
			out[k], vals[i] = r, r.Marshal()
		}
		_, err = tx.Exec(ctx, `UPDATE node_baselines b SET record = v.record, updated = now()
			FROM unnest($1::text[], $2::bytea[]) AS v(sender, record) WHERE b.sender = v.sender`, keys, vals)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("merge baselines: %w", err)
	}
	return out, nil
}

// Import stores records copied from a node's bbolt database where the
// shared store has none for the sender yet, and returns how many it
// stored.
func (s *Store) Import(ctx context.Context, recs map[string]baseline.Record) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	keys := make([]string, 0, len(recs))
	vals := make([][]byte, 0, len(recs))
	for k, r := range recs {
		keys, vals = append(keys, k), append(vals, r.Marshal())
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO node_baselines (sender, record, updated)
		SELECT * , now() FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (sender) DO NOTHING`, keys, vals)
	if err != nil {
		return 0, fmt.Errorf("import baselines: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
