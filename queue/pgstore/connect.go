package pgstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Connect opens a connection pool. dsn is a libpq URL or key=value string;
// what it leaves out comes from the standard PG* environment (PGHOST,
// PGUSER, PGPASSWORD, PGPASSFILE, PGSSLMODE, ...). passwordFile, if set,
// holds the password (trailing newline removed) so that it is in neither
// the config nor the environment. The pool is checked with one ping.
func Connect(ctx context.Context, dsn, passwordFile string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, fmt.Errorf("storage.dsn is not a valid PostgreSQL connection string")
	}
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("read storage.password_file: %w", err)
		}
		cfg.ConnConfig.Password = strings.TrimRight(string(b), "\r\n")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "sendguard"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}
