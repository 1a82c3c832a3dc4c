package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sendguard/sendguard/hold"
)

// EventsRange is hold.Store's listing of the cluster's chain: events
// matching f, one page at a time in sequence order; next is the cursor
// for the following page, 0 at the end. The audit page and the outcome
// statistics read it when nodes share the chain.
func (s *Store) EventsRange(ctx context.Context, f hold.EventFilter, p hold.EventPage) ([]hold.Event, uint64, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.MessageID != "" {
		where = append(where, "message_id = "+arg(f.MessageID))
	}
	if f.Actor != "" {
		where = append(where, "event::jsonb->'actor'->>'name' = "+arg(f.Actor))
	}
	if f.Role != "" {
		where = append(where, "event::jsonb->'actor'->>'role' = "+arg(f.Role))
	}
	if f.Action != "" {
		where = append(where, "event::jsonb->>'action' = "+arg(f.Action))
	}
	if !f.From.IsZero() {
		where = append(where, "(event::jsonb->>'time')::timestamptz >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "(event::jsonb->>'time')::timestamptz < "+arg(f.To))
	}
	order := "ASC"
	if p.After != 0 {
		if p.Desc {
			where = append(where, "seq < "+arg(int64(p.After)))
		} else {
			where = append(where, "seq > "+arg(int64(p.After)))
		}
	}
	if p.Desc {
		order = "DESC"
	}
	q := "SELECT event FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq " + order + " LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []hold.Event
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, 0, fmt.Errorf("list events: %w", err)
		}
		var e hold.Event
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, 0, fmt.Errorf("decode event: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list events: %w", err)
	}
	var next uint64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq
	}
	return out, next, nil
}
