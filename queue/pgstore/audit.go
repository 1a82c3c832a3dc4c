package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/hold"
)

// appendEvent assigns the next sequence number, time and hashes under the
// lock of the chain's head row and stores e, in the caller's transaction.
// As in hold, times never decrease along the chain, whichever node's
// clock wrote them.
func appendEvent(ctx context.Context, tx pgx.Tx, e *hold.Event, now time.Time) (hold.Event, error) {
	if e.Action == "" {
		return hold.Event{}, fmt.Errorf("%w: event without action", hold.ErrInvalid)
	}
	var seq, nanos int64
	var prev []byte
	if err := tx.QueryRow(ctx, `SELECT seq, hash, nanos FROM audit_head FOR UPDATE`).Scan(&seq, &prev, &nanos); err != nil {
		return hold.Event{}, fmt.Errorf("lock audit head: %w", err)
	}
	e.Seq = uint64(seq) + 1
	e.Time = now.UTC()
	if e.Time.UnixNano() < nanos {
		e.Time = time.Unix(0, nanos).UTC()
	}
	copy(e.PrevHash[:], prev)
	e.Hash = sha256.Sum256(e.Canonical())
	v, err := json.Marshal(e)
	if err != nil {
		return hold.Event{}, fmt.Errorf("encode event: %w", err)
	}
	var msg any
	if e.MessageID != "" {
		msg = e.MessageID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_events (seq, message_id, event) VALUES ($1, $2, $3)`, int64(e.Seq), msg, string(v)); err != nil {
		return hold.Event{}, fmt.Errorf("put event: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2, nanos = $3`, int64(e.Seq), e.Hash[:], e.Time.UnixNano()); err != nil {
		return hold.Event{}, fmt.Errorf("put audit head: %w", err)
	}
	return *e, nil
}

// AppendEvent adds an event that is not a decision (a sign-in, a
// download) to the cluster's chain.
func (s *Store) AppendEvent(ctx context.Context, e hold.Event) (hold.Event, error) {
	var out hold.Event
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = appendEvent(ctx, tx, &e, s.now())
		return err
	})
	return out, err
}

// AppendEventTx adds an event to the cluster's chain in the caller's
// transaction (the download-link store's, link/linkpg).
func (s *Store) AppendEventTx(ctx context.Context, tx pgx.Tx, e hold.Event) (hold.Event, error) {
	return appendEvent(ctx, tx, &e, s.now())
}

// Events returns a message's events in order.
func (s *Store) Events(ctx context.Context, id string) ([]hold.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT event FROM audit_events WHERE message_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (hold.Event, error) {
		var v string
		var e hold.Event
		if err := row.Scan(&v); err != nil {
			return e, err
		}
		return e, json.Unmarshal([]byte(v), &e)
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// Head returns the last event's sequence number and hash.
func (s *Store) Head(ctx context.Context) (uint64, hold.Hash, error) {
	var seq int64
	var h []byte
	var out hold.Hash
	if err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head`).Scan(&seq, &h); err != nil {
		return 0, out, err
	}
	copy(out[:], h)
	return uint64(seq), out, nil
}

// verifyBatch is how many events Verify reads per query.
const verifyBatch = 2000

// Verify walks the whole chain with hold's checks and returns the number
// of events, or a *hold.ChainError at the first broken link.
func (s *Store) Verify(ctx context.Context) (uint64, error) {
	var n uint64
	var prev hold.Hash
	var prevTime time.Time
	for {
		rows, err := s.pool.Query(ctx, `SELECT seq, event FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(n), verifyBatch)
		if err != nil {
			return n, fmt.Errorf("read events: %w", err)
		}
		type row struct {
			seq int64
			v   string
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.seq, &x.v)
		})
		if err != nil {
			return n, fmt.Errorf("read events: %w", err)
		}
		for _, r := range batch {
			want := n + 1
			var e hold.Event
			switch {
			case uint64(r.seq) != want:
				return n, &hold.ChainError{Seq: want, Reason: "missing event"}
			case json.Unmarshal([]byte(r.v), &e) != nil:
				return n, &hold.ChainError{Seq: want, Reason: "undecodable event"}
			case e.Seq != want:
				return n, &hold.ChainError{Seq: want, Reason: fmt.Sprintf("event claims seq %d", e.Seq)}
			case e.PrevHash != prev:
				return n, &hold.ChainError{Seq: want, Reason: "prev_hash does not match the previous event"}
			case sha256.Sum256(e.Canonical()) != e.Hash:
				return n, &hold.ChainError{Seq: want, Reason: "hash does not match the event"}
			case e.Time.Before(prevTime):
				return n, &hold.ChainError{Seq: want, Reason: "time goes back"}
			}
			prev, prevTime, n = e.Hash, e.Time, want
		}
		if len(batch) < verifyBatch {
			break
		}
	}
	seq, h, err := s.Head(ctx)
	switch {
	case err != nil:
		return n, fmt.Errorf("read audit head: %w", err)
	case seq > n:
		return n, &hold.ChainError{Seq: n + 1, Reason: fmt.Sprintf("log ends at %d, head says %d", n, seq)}
	case seq < n:
		return n, &hold.ChainError{Seq: seq + 1, Reason: fmt.Sprintf("log goes on past head %d", seq)}
	case h != prev:
		return n, &hold.ChainError{Seq: n, Reason: "head hash does not match the last event"}
	}
	return n, nil
}

// ImportChain appends events of another chain verbatim (sequence numbers,
// times and hashes as they are), so that a single node's audit log moved
// here still verifies: the first event must follow the head (an empty
// chain for a log starting at 1), and every event is checked as Verify
// would before it is written. It returns how many it appended.
func (s *Store) ImportChain(ctx context.Context, events []hold.Event) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var seq, nanos int64
		var h []byte
		if err := tx.QueryRow(ctx, `SELECT seq, hash, nanos FROM audit_head FOR UPDATE`).Scan(&seq, &h, &nanos); err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		var prev hold.Hash
		copy(prev[:], h)
		for _, e := range events {
			switch {
			case e.Seq != uint64(seq)+1:
				return &hold.ChainError{Seq: e.Seq, Reason: fmt.Sprintf("does not follow the shared chain's head %d", seq)}
			case e.PrevHash != prev:
				return &hold.ChainError{Seq: e.Seq, Reason: "prev_hash does not match the shared chain's head"}
			case sha256.Sum256(e.Canonical()) != e.Hash:
				return &hold.ChainError{Seq: e.Seq, Reason: "hash does not match the event"}
			case e.Time.UnixNano() < nanos:
				return &hold.ChainError{Seq: e.Seq, Reason: "time goes back"}
			}
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			var msg any
			if e.MessageID != "" {
				msg = e.MessageID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO audit_events (seq, message_id, event) VALUES ($1, $2, $3)`, int64(e.Seq), msg, string(v)); err != nil {
				return fmt.Errorf("put event: %w", err)
			}
			seq, prev, nanos = int64(e.Seq), e.Hash, e.Time.UnixNano()
			n++
		}
		_, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2, nanos = $3`, seq, prev[:], nanos)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
