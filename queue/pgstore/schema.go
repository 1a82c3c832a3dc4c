package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Migrations are embedded, numbered SQL files applied in order by goose;
// its version table is sendguard_schema.
//
//go:embed migrations/*.sql
var migrations embed.FS

const versionTable = "sendguard_schema"

var (
	// ErrSchemaNewer means the database was migrated by a newer sendguard.
	ErrSchemaNewer = errors.New("database schema is newer than this sendguard knows")
	// ErrSchemaOld means migrations are pending.
	ErrSchemaOld = errors.New("database schema is not migrated")
)

// MigrationStatus is one known migration and whether it is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	// A session advisory lock: two nodes migrating at once apply each
	// migration once.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(versionTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
}

func withProvider(pool *pgxpool.Pool, fn func(*goose.Provider) error) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	return fn(p)
}

// Migrate applies every pending migration and returns the versions it
// applied. It refuses a database that is already newer.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int64, error) {
	if err := CheckSchema(ctx, pool); err != nil && !errors.Is(err, ErrSchemaOld) {
		return nil, err
	}
	var done []int64
	err := withProvider(pool, func(p *goose.Provider) error {
		res, err := p.Up(ctx)
		for _, r := range res {
			done = append(done, r.Source.Version)
		}
		return err
	})
	if err != nil {
		return done, fmt.Errorf("migrate: %w", err)
	}
	return done, nil
}

// Status lists the known migrations.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]MigrationStatus, error) {
	var out []MigrationStatus
	err := withProvider(pool, func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			out = append(out, MigrationStatus{Version: s.Source.Version, Name: s.Source.Path,
				Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	return out, nil
}

// Versions returns the database's schema version and the newest this
// build knows.
func Versions(ctx context.Context, pool *pgxpool.Pool) (db, known int64, err error) {
	err = withProvider(pool, func(p *goose.Provider) error {
		for _, s := range p.ListSources() {
			known = max(known, s.Version)
		}
		// Read the table directly: goose reports a version it has no
		// file for as an error, and that is the case to name clearly.
		var exists bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", versionTable).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return nil
		}
		return pool.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM "+versionTable+" WHERE is_applied").Scan(&db)
	})
	if errors.Is(err, database.ErrVersionNotFound) {
		err = nil
	}
	return db, known, err
}

// CheckSchema is what a node checks before it starts: the schema must be
// exactly the one it knows.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	db, known, err := Versions(ctx, pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case db > known:
		return fmt.Errorf("%w: the database is at version %d, this sendguard knows up to %d; upgrade sendguard on this node", ErrSchemaNewer, db, known)
	case db < known:
		return fmt.Errorf("%w: the database is at version %d, this sendguard needs %d; run: sendguard db migrate", ErrSchemaOld, db, known)
	}
	return nil
}
