package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/queue/pgstore"
)

// dbCmd manages the PostgreSQL schema of a cluster (storage.driver:
// postgres). Nodes never migrate on their own: an upgrade is "migrate
// once, then restart the nodes", and a node refuses a schema that is not
// exactly its own.
func dbCmd(args []string) error {
	c := newCommand("db", "db migrate|status [-config FILE]\n\n"+
		"migrate  apply the pending schema migrations to storage.dsn (safe to run from several nodes at once)\n"+
		"status   list the schema migrations this sendguard knows and whether each is applied")
	cfgPath := c.configFlag()
	if wantsHelp(args) {
		return c.help(args)
	}
	sub := args[0]
	if sub != "migrate" && sub != "status" {
		c.printUsage(os.Stderr)
		return usageError("unknown db command %q", sub)
	}
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("db %s takes no arguments", sub)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Storage.Postgres() {
		return errors.New("storage.driver is bbolt: the embedded database needs no migration (set storage.driver: postgres and storage.dsn)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool, err := pgstore.Connect(ctx, cfg.Storage.DSN, cfg.Storage.PasswordFile)
	if err != nil {
		return err
	}
	defer pool.Close()
	if sub == "migrate" {
		return dbMigrate(ctx, os.Stdout, pool)
	}
	return dbStatus(ctx, os.Stdout, pool)
}

func dbMigrate(ctx context.Context, w io.Writer, pool *pgxpool.Pool) error {
	done, err := pgstore.Migrate(ctx, pool)
	for _, v := range done {
		fmt.Fprintf(w, "applied migration %d\n", v)
	}
	if err != nil {
		return err
	}
	db, _, err := pgstore.Versions(ctx, pool)
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintf(w, "schema already at version %d; nothing to do\n", db)
		return nil
	}
	fmt.Fprintf(w, "schema at version %d\n", db)
	return nil
}

func dbStatus(ctx context.Context, w io.Writer, pool *pgxpool.Pool) error {
	st, err := pgstore.Status(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-8s %-8s %-20s %s\n", "VERSION", "STATE", "APPLIED", "FILE")
	for _, s := range st {
		state, at := "pending", ""
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%-8d %-8s %-20s %s\n", s.Version, state, at, filepath.Base(s.Name))
	}
	if err := pgstore.CheckSchema(ctx, pool); err != nil {
		fmt.Fprintln(w, err)
		if errors.Is(err, pgstore.ErrSchemaNewer) {
			return err
		}
	}
	return nil
}
