package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/hold"
)

// RecordsSince returns up to limit hold records of every node created or
// decided at or after from, newest first; the newest withReports of them
// carry their reports. The console's dashboard charts read it.
func (s *Store) RecordsSince(ctx context.Context, from time.Time, limit, withReports int) ([]*hold.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT hold, CASE WHEN row_number() OVER (ORDER BY created_at DESC, id DESC) <= $3 THEN report END
		FROM held_messages WHERE created_at >= $1 OR decided_at >= $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, from, limit, withReports)
	if err != nil {
		return nil, fmt.Errorf("list hold records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*hold.Record, error) {
		var hj, report []byte
		if err := row.Scan(&hj, &report); err != nil {
			return nil, err
		}
		r := new(hold.Record)
		if err := json.Unmarshal(hj, r); err != nil {
			return nil, err
		}
		if len(report) > 0 {
			r.Report = append(json.RawMessage(nil), report...)
		}
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list hold records: %w", err)
	}
	return out, nil
}
