package consolepg

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/internal/ratelimit"
	"github.com/sendguard/sendguard/web/console"
)

// SignIns is console.SignInStore on PostgreSQL: every node counts a key's
// failed sign-ins in one row, incremented in one statement, so guesses
// spread over nodes add up as on one node.
type SignIns struct{ pool *pgxpool.Pool }

// NewSignIns uses pool's database, migrated by sendguard db migrate.
func NewSignIns(pool *pgxpool.Pool) *SignIns { return &SignIns{pool: pool} }

var _ console.SignInStore = (*SignIns)(nil)

// Backoff implements console.SignInStore with ratelimit.Backoff's rule
// and defaults.
func (s *SignIns) Backoff(scope string, c ratelimit.BackoffConfig) console.Backoff {
	return &backoff{pool: s.pool, scope: scope, cfg: c.WithDefaults()}
}

type backoff struct {
	pool  *pgxpool.Pool
	scope string
	cfg   ratelimit.BackoffConfig
	fails atomic.Uint64
}

// purgeEvery: one failure in this many also deletes rows forgotten.
const purgeEvery = 256

func (b *backoff) delay(n int) time.Duration { return b.cfg.Delay(n) }

func (b *backoff) Wait(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	var n int
	var last time.Time
	err := b.pool.QueryRow(ctx, `SELECT failures, last_at FROM node_signin_failures WHERE scope = $1 AND key = $2`, b.scope, []byte(key)).Scan(&n, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read failed sign-ins: %w", err)
	}
	if now.Sub(last) >= b.cfg.Forget {
		return 0, nil
	}
	return max(0, last.Add(b.delay(n)).Sub(now)), nil
}

func (b *backoff) Fail(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	var n int
	err := b.pool.QueryRow(ctx, `INSERT INTO node_signin_failures AS f (scope, key, failures, last_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (scope, key) DO UPDATE SET
			failures = CASE WHEN $3 - f.last_at >= $4 THEN 1 ELSE f.failures + 1 END,
			last_at = $3
		RETURNING failures`, b.scope, []byte(key), now, b.cfg.Forget).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record failed sign-in: %w", err)
	}
	if b.fails.Add(1)%purgeEvery == 0 {
		if _, err := b.pool.Exec(ctx, `DELETE FROM node_signin_failures WHERE scope = $1 AND last_at < $2`,
			b.scope, now.Add(-b.cfg.Forget)); err != nil {
			return 0, fmt.Errorf("forget old sign-in failures: %w", err)
		}
	}
	return b.delay(n), nil
}

func (b *backoff) Reset(ctx context.Context, key string) error {
	if _, err := b.pool.Exec(ctx, `DELETE FROM node_signin_failures WHERE scope = $1 AND key = $2`, b.scope, []byte(key)); err != nil {
		return fmt.Errorf("clear failed sign-ins: %w", err)
	}
	return nil
}
