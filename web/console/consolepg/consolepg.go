// Package consolepg keeps the security console's accounts and sessions in
// the PostgreSQL database several sendguard nodes share (storage.driver
// postgres): an account added on one node signs in on every node, a
// session made on one is valid on all, and a TOTP code used on one node
// is refused on the others (the last used step is updated with the row
// locked). The tables come with pgstore's migrations.
package consolepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/web/console"
)

// Store is console.Accounts on PostgreSQL.
type Store struct{ pool *pgxpool.Pool }

// New uses pool's database, migrated by sendguard db migrate.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ console.Accounts = (*Store)(nil)

func (s *Store) User(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM console_users WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", console.ErrUserNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read console user: %w", err)
	}
	return v, nil
}

func (s *Store) AddUser(ctx context.Context, name string, rec []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO console_users (name, record) VALUES ($1, $2)`, name, rec)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("%w: %s", console.ErrUserExists, name)
	}
	if err != nil {
		return fmt.Errorf("add console user: %w", err)
	}
	return nil
}

func (s *Store) UpdateUser(ctx context.Context, name string, revoke bool, fn func([]byte) ([]byte, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var v []byte
		err := tx.QueryRow(ctx, `SELECT record FROM console_users WHERE name = $1 FOR UPDATE`, name).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", console.ErrUserNotFound, name)
		}
		if err != nil {
			return fmt.Errorf("lock console user: %w", err)
		}
		nv, err := fn(v)
		if err != nil {
			return err
		}
		if revoke {
			if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_name = $1`, name); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE console_users SET record = $2 WHERE name = $1`, name, nv); err != nil {
			return fmt.Errorf("update console user: %w", err)
		}
		return nil
	})
}

func (s *Store) Users(ctx context.Context) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT record FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	return out, nil
}

func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM console_users WHERE name = $1`, name)
		if err != nil {
			return fmt.Errorf("delete console user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", console.ErrUserNotFound, name)
		}
		_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_name = $1`, name)
		return err
	})
}

func (s *Store) Session(ctx context.Context, key [32]byte) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM console_sessions WHERE key = $1`, key[:]).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return v, nil
}

func (s *Store) PutSession(ctx context.Context, key [32]byte, old *[32]byte, user string, expires time.Time, rec []byte) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if old != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE key = $1`, old[:]); err != nil {
				return fmt.Errorf("replace session: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_sessions (key, user_name, expires, record) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key) DO UPDATE SET user_name = EXCLUDED.user_name, expires = EXCLUDED.expires, record = EXCLUDED.record`,
			key[:], user, expires, rec)
		if err != nil {
			return fmt.Errorf("store session: %w", err)
		}
		return nil
	})
}

func (s *Store) TakeSession(ctx context.Context, key [32]byte) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `DELETE FROM console_sessions WHERE key = $1 RETURNING record`, key[:]).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take session: %w", err)
	}
	return v, nil
}

func (s *Store) DeleteSession(ctx context.Context, key [32]byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE key = $1`, key[:]); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Sweep uses the expiry index; SKIP LOCKED keeps nodes sweeping at once
// from waiting on each other.
func (s *Store) Sweep(ctx context.Context, now time.Time, limit int) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE key IN (
		SELECT key FROM console_sessions WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, now, limit)
	if err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	return nil
}
