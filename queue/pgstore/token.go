package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/hold"
)

// AddToken stores a link token's record (its hash, never the token) for a
// stored message, with hold.Store.AddToken's checks.
func (s *Store) AddToken(ctx context.Context, t hold.Token) error {
	switch {
	case t.Hash == [32]byte{}:
		return fmt.Errorf("%w: zero token hash", hold.ErrInvalid)
	case t.Role == "":
		return fmt.Errorf("%w: token without role", hold.ErrInvalid)
	case t.Expires.IsZero():
		return fmt.Errorf("%w: token without expiry", hold.ErrInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO hold_tokens (hash, message_id, role, subject, created_at, expires)
		SELECT $1, id, $3, $6, $4, $5 FROM held_messages WHERE id = $2 ON CONFLICT (hash) DO NOTHING`,
		t.Hash[:], t.MessageID, string(t.Role), t.CreatedAt.UTC(), t.Expires.UTC(), strings.ToLower(strings.TrimSpace(t.Subject)))
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.Get(ctx, t.MessageID); err != nil {
			return fmt.Errorf("%w: token for %q", hold.ErrNotFound, t.MessageID)
		}
		return fmt.Errorf("%w: token hash", hold.ErrExists)
	}
	return nil
}

// checkToken reads a token (locking it in a write transaction) with
// hold's answers: unknown or wrong role give no token; used or expired
// give the token and the error.
func checkToken(ctx context.Context, q pgx.Tx, hash [32]byte, role hold.Role, now time.Time, lock bool) (*hold.Token, error) {
	sql := `SELECT message_id, role, subject, created_at, expires, used_at, used_by FROM hold_tokens WHERE hash = $1`
	if lock {
		sql += " FOR UPDATE"
	}
	t := &hold.Token{Hash: hash}
	var r string
	var usedAt *time.Time
	var usedBy []byte
	err := q.QueryRow(ctx, sql, hash[:]).Scan(&t.MessageID, &r, &t.Subject, &t.CreatedAt, &t.Expires, &usedAt, &usedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hold.ErrTokenUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	t.Role = hold.Role(r)
	t.CreatedAt, t.Expires = t.CreatedAt.UTC(), t.Expires.UTC()
	if usedAt != nil {
		t.UsedAt = usedAt.UTC()
		if len(usedBy) > 0 {
			_ = json.Unmarshal(usedBy, &t.UsedBy)
		}
	}
	switch {
	case t.Role != role:
		return nil, hold.ErrTokenWrongRole
	case !t.UsedAt.IsZero():
		return t, hold.ErrTokenUsed
	case !now.Before(t.Expires):
		return t, hold.ErrTokenExpired
	}
	return t, nil
}

func markUsed(ctx context.Context, tx pgx.Tx, t *hold.Token, now time.Time, actor hold.Actor) error {
	by, err := json.Marshal(actor)
	if err != nil {
		return err
	}
	t.UsedAt, t.UsedBy = now.UTC(), actor
	_, err = tx.Exec(ctx, `UPDATE hold_tokens SET used_at = $2, used_by = $3 WHERE hash = $1`, t.Hash[:], t.UsedAt, string(by))
	if err != nil {
		return fmt.Errorf("mark token used: %w", err)
	}
	return nil
}

// LookupToken checks a token without consuming it (for a GET page); for a
// used or expired token it returns the token and its message's record
// with the error.
func (s *Store) LookupToken(ctx context.Context, hash [32]byte, role hold.Role, now time.Time) (*hold.Token, *hold.Record, error) {
	var tok *hold.Token
	var result error
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		tok, result = checkToken(ctx, tx, hash, role, now, false)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if tok == nil {
		return nil, nil, result
	}
	h, err := s.Get(ctx, tok.MessageID)
	if err != nil {
		return nil, nil, err
	}
	return tok, h.Hold, result
}

// UseToken consumes a single-use token that changes no hold state.
func (s *Store) UseToken(ctx context.Context, hash [32]byte, role hold.Role, now time.Time, actor hold.Actor) (*hold.Token, error) {
	var tok *hold.Token
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if tok, err = checkToken(ctx, tx, hash, role, now, true); err != nil {
			return err
		}
		return markUsed(ctx, tx, tok, now, actor)
	})
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// DecideWithToken validates a token for role, decides its message and
// marks the token used, in one transaction; a refused decision leaves the
// token unused.
func (s *Store) DecideWithToken(ctx context.Context, hash [32]byte, role hold.Role, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error) {
	var rec *hold.Record
	var result error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		tok, err := checkToken(ctx, tx, hash, role, now, true)
		if err != nil {
			return err
		}
		rec, result, err = s.decideTx(ctx, tx, tok.MessageID, to, actor, reason, mode, now)
		if err != nil || result != nil {
			return err
		}
		return markUsed(ctx, tx, tok, now, actor)
	})
	if err != nil {
		return nil, err
	}
	return rec, result
}
