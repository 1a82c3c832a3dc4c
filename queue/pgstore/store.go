// Package pgstore is the held queue that several sendguard nodes share on
// PostgreSQL: held messages (envelope, hold record, report and the body,
// gzip-compressed), their decisions, link tokens and one audit chain.
//
// In-flight mail stays in each node's own spool; a message enters this
// store only once the policy held it, and leaves it by one decision.
// Invariants:
//
//   - Insert is idempotent by queue ID: a node that crashed after copying
//     a message here but before removing its local copy copies it again
//     and nothing doubles.
//   - A decision is one transaction that locks the row (SELECT … FOR
//     UPDATE), checks it is still held, writes the outcome and names the
//     deciding node, and appends the audit event: of two reviewers on two
//     nodes, one decides, the other gets a *hold.DecidedError.
//   - The deciding node then lands the message in its own spool and marks
//     the row landed; a node that crashed in between lands it on restart
//     (Unlanded), so a release is delivered by exactly one node.
//   - Deadlines fire once across the cluster: Tick takes due rows with
//     FOR UPDATE SKIP LOCKED, so nodes share the work, and a node that
//     dies mid-tick only loses its transaction (its locks go with its
//     connection) and another node takes the rows on its next tick.
//   - The audit chain is serialised by locking its single head row, in the
//     transaction of the change it records; Verify checks it like
//     hold.Store.Verify.
package pgstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// Options configure a Store.
type Options struct {
	// Node names this node in the rows it decides (hostname by default,
	// chosen by the caller); it must be unique and stable across restarts.
	Node string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Store is the shared held queue on one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger
}

// New uses pool (owned by the caller) after checking the schema version.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if opts.Node == "" {
		return nil, fmt.Errorf("%w: node name is empty", hold.ErrInvalid)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := CheckSchema(ctx, pool); err != nil {
		return nil, err
	}
	return &Store{pool: pool, opts: opts, log: log.With("component", "pgstore")}, nil
}

// Node is this node's name.
func (s *Store) Node() string { return s.opts.Node }

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// Held is a held message as stored.
type Held struct {
	Hold    *hold.Record  // with its report
	Message *spool.Record // the spool record as accepted (state held)
	Node    string        // the node that decided it ("" while held)
	Landed  bool          // the deciding node has it in its spool
}

// Insert stores a held message, its body, the tokens of its notices' links
// and its "hold" audit event in one transaction. It reports false, and
// writes nothing, if the ID is already stored (a retried copy).
func (s *Store) Insert(ctx context.Context, h *hold.Record, m *spool.Record, body []byte, tokens []hold.Token, actor hold.Actor, reason string) (bool, error) {
	return s.insert(ctx, h, m, body, tokens, &hold.Event{MessageID: h.ID, Actor: actor, Action: hold.ActionHold,
		To: hold.StateHeld, Reason: reason})
}

// InsertImported is Insert for a message whose audit events were imported
// with the chain they belong to (ImportChain): it appends none.
func (s *Store) InsertImported(ctx context.Context, h *hold.Record, m *spool.Record, body []byte, tokens []hold.Token) (bool, error) {
	return s.insert(ctx, h, m, body, tokens, nil)
}

func (s *Store) insert(ctx context.Context, h *hold.Record, m *spool.Record, body []byte, tokens []hold.Token, ev *hold.Event) (bool, error) {
	if h == nil || m == nil || h.ID == "" || h.ID != m.ID {
		return false, fmt.Errorf("%w: hold and message must share an ID", hold.ErrInvalid)
	}
	hr := *h
	hr.State = hold.StateHeld
	if hr.CreatedAt.IsZero() {
		hr.CreatedAt = s.now()
	}
	hj, err := json.Marshal(&hr)
	if err != nil {
		return false, fmt.Errorf("encode hold record: %w", err)
	}
	mj, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("encode message record: %w", err)
	}
	var report any
	if len(h.Report) > 0 {
		report = string(h.Report)
	}
	z, err := compress(body)
	if err != nil {
		return false, err
	}
	inserted := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO held_messages
			(id, state, kind, origin, created_at, deadline, sender, hold, report, message, body, body_size, body_sha256)
			VALUES ($1, 'held', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (id) DO NOTHING`,
			hr.ID, string(hr.Kind), s.opts.Node, hr.CreatedAt, nullTime(hr.Deadline), hr.Sender,
			string(hj), report, string(mj), z, int64(len(body)), m.SHA256)
		if err != nil {
			return fmt.Errorf("insert held message: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		inserted = true
		for _, t := range tokens {
			var usedAt, usedBy any
			if !t.UsedAt.IsZero() {
				b, _ := json.Marshal(t.UsedBy)
				usedAt, usedBy = t.UsedAt.UTC(), string(b)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO hold_tokens (hash, message_id, role, subject, created_at, expires, used_at, used_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.Hash[:], hr.ID, string(t.Role), t.Subject, t.CreatedAt.UTC(), t.Expires.UTC(), usedAt, usedBy); err != nil {
				return fmt.Errorf("insert token: %w", err)
			}
		}
		if ev == nil {
			return nil
		}
		_, err = appendEvent(ctx, tx, ev, s.now())
		return err
	})
	return inserted, err
}

// Get reads a held message without its body.
func (s *Store) Get(ctx context.Context, id string) (*Held, error) {
	var hj, mj, report []byte
	var node *string
	var landed bool
	err := s.pool.QueryRow(ctx, `SELECT hold, message, report, node, landed FROM held_messages WHERE id = $1`, id).
		Scan(&hj, &mj, &report, &node, &landed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", hold.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read held message: %w", err)
	}
	h, err := decode(hj, mj, report)
	if err != nil {
		return nil, err
	}
	if node != nil {
		h.Node = *node
	}
	h.Landed = landed
	return h, nil
}

func decode(hj, mj, report []byte) (*Held, error) {
	h := &Held{Hold: new(hold.Record), Message: new(spool.Record)}
	if err := json.Unmarshal(hj, h.Hold); err != nil {
		return nil, fmt.Errorf("decode hold record: %w", err)
	}
	if err := json.Unmarshal(mj, h.Message); err != nil {
		return nil, fmt.Errorf("decode message record: %w", err)
	}
	if len(report) > 0 {
		h.Hold.Report = append(json.RawMessage(nil), report...)
	}
	return h, nil
}

// Body returns a held message's bytes.
func (s *Store) Body(ctx context.Context, id string) ([]byte, error) {
	var z []byte
	err := s.pool.QueryRow(ctx, `SELECT body FROM held_messages WHERE id = $1`, id).Scan(&z)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", hold.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read held body: %w", err)
	}
	return decompress(z)
}

// Decide moves a held message to state to as actor in one transaction
// that locks its row, and names this node as the one that lands it. As in
// hold.Store.Transition: a message already decided, or whose deadline
// passed (which decides it first), gives a *hold.DecidedError with the
// outcome; hold.ErrNotFound if no such message is stored here.
func (s *Store) Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error) {
	var rec *hold.Record
	var result error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		rec, result, err = s.decideTx(ctx, tx, id, to, actor, reason, mode, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, result
}

// decideTx is Decide inside tx. A DecidedError is returned as result so
// that the deadline's outcome written on the way still commits.
func (s *Store) decideTx(ctx context.Context, tx pgx.Tx, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode, now time.Time) (*hold.Record, error, error) {
	if mode != "" && to != hold.StateReleased {
		return nil, nil, fmt.Errorf("%w: release mode %q with state %s", hold.ErrInvalid, mode, to)
	}
	r, err := lockRecord(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if r.State.Final() {
		return r, decided(r), nil
	}
	if out := deadlineOutcome(r.Kind); !r.Deadline.IsZero() && !now.Before(r.Deadline) && to != out {
		if err := s.apply(ctx, tx, r, out, hold.System, "deadline passed", hold.ModeAsIs, now); err != nil {
			return nil, nil, err
		}
		return r, decided(r), nil
	}
	if !legal(r.Kind, to) {
		return r, nil, fmt.Errorf("%w: %s (%s) to %s", hold.ErrIllegalTransition, r.State, r.Kind, to)
	}
	if to == hold.StateReleased && mode == "" {
		mode = hold.ModeAsIs
	}
	if err := s.apply(ctx, tx, r, to, actor, reason, mode, now); err != nil {
		return nil, nil, err
	}
	return r, nil, nil
}

// lockRecord reads a stored hold record and locks its row until tx ends.
func lockRecord(ctx context.Context, tx pgx.Tx, id string) (*hold.Record, error) {
	var hj []byte
	err := tx.QueryRow(ctx, `SELECT hold FROM held_messages WHERE id = $1 FOR UPDATE`, id).Scan(&hj)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", hold.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("lock held message: %w", err)
	}
	r := new(hold.Record)
	if err := json.Unmarshal(hj, r); err != nil {
		return nil, fmt.Errorf("decode hold record: %w", err)
	}
	return r, nil
}

// putHold rewrites a still held record (an approval short of the quorum).
func putHold(ctx context.Context, tx pgx.Tx, r *hold.Record) error {
	hj, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode hold record: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE held_messages SET hold = $2 WHERE id = $1 AND state = 'held'`, r.ID, string(hj)); err != nil {
		return fmt.Errorf("write approval: %w", err)
	}
	return nil
}

// apply writes the decision and its audit event. A deletion needs no node
// to land it: nobody is told and nothing is delivered.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, r *hold.Record, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode, now time.Time) error {
	from := r.State
	r.State, r.DecidedAt, r.DecidedBy, r.Reason, r.Mode = to, now, actor, reason, ""
	if to == hold.StateReleased {
		r.Mode = mode
	}
	hj, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode hold record: %w", err)
	}
	landed := to == hold.StateDeleted
	tag, err := tx.Exec(ctx, `UPDATE held_messages SET state = $2, decided_at = $3, node = $4, landed = $5, hold = $6
		WHERE id = $1 AND state = 'held'`, r.ID, string(to), now, s.opts.Node, landed, string(hj))
	if err != nil {
		return fmt.Errorf("write decision: %w", err)
	}
	if tag.RowsAffected() != 1 {
		// Unreachable while callers hold the row lock; never two decisions.
		return fmt.Errorf("write decision: %s is no longer held", r.ID)
	}
	_, err = appendEvent(ctx, tx, &hold.Event{MessageID: r.ID, Actor: actor, Action: actionFor(to),
		From: from, To: to, Mode: r.Mode, Reason: reason}, now)
	return err
}

// MarkLanded records that this node has the decided message in its spool.
func (s *Store) MarkLanded(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE held_messages SET landed = true WHERE id = $1 AND node = $2`, id, s.opts.Node)
	if err != nil {
		return fmt.Errorf("mark landed: %w", err)
	}
	return nil
}

// Unlanded lists up to limit messages this node decided but has not yet
// landed (it stopped in between): the node lands them on start.
func (s *Store) Unlanded(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM held_messages WHERE node = $1 AND state <> 'held' AND NOT landed
		ORDER BY decided_at LIMIT $2`, s.opts.Node, limit)
	if err != nil {
		return nil, fmt.Errorf("list unlanded: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list unlanded: %w", err)
	}
	return ids, nil
}

// Tick decides up to limit held messages whose deadline passed by now (a
// delay is released, any other hold expires), taking rows no other node
// is working on, and returns their IDs; this node lands them.
func (s *Store) Tick(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ids = ids[:0]
		rows, err := tx.Query(ctx, `SELECT hold FROM held_messages WHERE state = 'held' AND deadline <= $1
			ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED`, now.UTC(), limit)
		if err != nil {
			return fmt.Errorf("read deadlines: %w", err)
		}
		recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*hold.Record, error) {
			var hj []byte
			if err := row.Scan(&hj); err != nil {
				return nil, err
			}
			r := new(hold.Record)
			return r, json.Unmarshal(hj, r)
		})
		if err != nil {
			return fmt.Errorf("read deadlines: %w", err)
		}
		for _, r := range recs {
			if err := s.apply(ctx, tx, r, deadlineOutcome(r.Kind), hold.System, "deadline passed", hold.ModeAsIs, now.UTC()); err != nil {
				return err
			}
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// NextDeadline is the earliest deadline of a held message, if any.
func (s *Store) NextDeadline(ctx context.Context) (time.Time, bool, error) {
	var t *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(deadline) FROM held_messages WHERE state = 'held'`).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, false, err
	}
	return t.UTC(), true, nil
}

// Counts returns the number of stored messages per state.
func (s *Store) Counts(ctx context.Context) (map[hold.State]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM held_messages GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[hold.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[hold.State(st)] = n
	}
	return out, rows.Err()
}

// Purge deletes decided messages decided before cutoff that their node has
// landed (or that were deleted), with their tokens; audit events stay.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM held_messages WHERE state <> 'held' AND landed AND decided_at < $1`, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func decided(r *hold.Record) *hold.DecidedError {
	return &hold.DecidedError{ID: r.ID, State: r.State, Mode: r.Mode, By: r.DecidedBy, At: r.DecidedAt}
}

// legal mirrors hold's state machine: only held records move; a delay has
// no expiry (its deadline releases it).
func legal(k hold.Kind, to hold.State) bool {
	switch to {
	case hold.StateReleased, hold.StateRejected, hold.StateCancelled, hold.StateDeleted:
		return true
	case hold.StateExpired:
		return k != hold.KindDelay
	}
	return false
}

func deadlineOutcome(k hold.Kind) hold.State {
	if k == hold.KindDelay {
		return hold.StateReleased
	}
	return hold.StateExpired
}

func actionFor(to hold.State) string {
	switch to {
	case hold.StateReleased:
		return hold.ActionRelease
	case hold.StateRejected:
		return hold.ActionReject
	case hold.StateCancelled:
		return hold.ActionCancel
	case hold.StateExpired:
		return hold.ActionExpire
	case hold.StateDeleted:
		return hold.ActionDelete
	}
	return string(to)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("compress body: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress body: %w", err)
	}
	return buf.Bytes(), nil
}

func decompress(z []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("decompress body: %w", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decompress body: %w", err)
	}
	return b, nil
}

// listLimit bounds one List.
const listLimit = 1000

// List returns up to 1,000 stored messages, oldest first: those in state
// (every state when empty; only held ones when state is "held").
func (s *Store) List(ctx context.Context, state string) ([]*Held, error) {
	rows, err := s.pool.Query(ctx, `SELECT hold, message, node, landed FROM held_messages
		WHERE $1 = '' OR state = $1 ORDER BY created_at, id LIMIT $2`, state, listLimit)
	if err != nil {
		return nil, fmt.Errorf("list held messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Held, error) {
		var hj, mj []byte
		var node *string
		var landed bool
		if err := row.Scan(&hj, &mj, &node, &landed); err != nil {
			return nil, err
		}
		h, err := decode(hj, mj, nil)
		if err != nil {
			return nil, err
		}
		if node != nil {
			h.Node = *node
		}
		h.Landed = landed
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list held messages: %w", err)
	}
	return out, nil
}
