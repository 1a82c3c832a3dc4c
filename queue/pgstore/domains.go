package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// KnownDomain reports whether some node delivered to domain (one
// primary-key lookup).
func (s *Store) KnownDomain(ctx context.Context, domain string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM known_domains WHERE domain = $1`, domain).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up known domain: %w", err)
	}
	return true, nil
}

// AddDomains records domains this node delivered to, in one statement; a
// domain already known keeps its first time and node. It returns how many
// were new.
func (s *Store) AddDomains(ctx context.Context, domains []string, at time.Time) (int, error) {
	if len(domains) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO known_domains (domain, first_at, node)
		SELECT d, $2, $3 FROM unnest($1::text[]) AS d ON CONFLICT (domain) DO NOTHING`, domains, at.UTC(), s.opts.Node)
	if err != nil {
		return 0, fmt.Errorf("add known domains: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
