package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linkpg"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/consolepg"
)

// dbCmd manages the PostgreSQL schema of a cluster (storage.driver:
// postgres). Nodes never migrate on their own: an upgrade is "migrate
// once, then restart the nodes", and a node refuses a schema that is not
// exactly its own.
func dbCmd(args []string) error {
	c := newCommand("db", "db migrate|status|import [-from DATA_DIR] [-config FILE]\n\n"+
		"migrate  apply the pending schema migrations to storage.dsn (safe to run from several nodes at once)\n"+
		"status   list the schema migrations this sendguard knows and whether each is applied\n"+
		"import   copy a stopped single node's held mail, audit chain, console accounts, download links, stored reports and sender baselines (DATA_DIR) into storage.dsn")
	cfgPath := c.configFlag()
	from := c.fs.String("from", "", "db import: the data_dir of the stopped bbolt node")
	if wantsHelp(args) {
		return c.help(args)
	}
	sub := args[0]
	if sub != "migrate" && sub != "status" && sub != "import" {
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
	if (sub == "import") != (*from != "") {
		return usageError("-from DATA_DIR goes with db import, and only with it")
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
	switch sub {
	case "migrate":
		return dbMigrate(ctx, os.Stdout, pool)
	case "import":
		return dbImport(ctx, os.Stdout, pool, *from)
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

// dbImport copies a single node's store into the shared one: its audit
// chain verbatim (it still verifies; only into a database whose chain is
// empty or already this one) and its held mail without new events. The
// node must be stopped (its database is locked while it runs). Started
// afterwards with storage.driver: postgres, it finds its held mail already
// shared and only removes its own copies. Run again, it adds only what is
// missing.
func dbImport(ctx context.Context, w io.Writer, pool *pgxpool.Pool, dataDir string) error {
	st, err := pgstore.New(ctx, pool, pgstore.Options{Node: "import"})
	if err != nil {
		return err
	}
	sp, err := spool.Open(dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("open %s (is its sendguard stopped?): %w", dataDir, err)
	}
	defer sp.Close()
	q, err := queue.Open(sp, queue.Options{})
	if err != nil {
		return err
	}
	if n, err := q.Verify(ctx); err != nil {
		return fmt.Errorf("the node's own audit chain does not verify (%d events): %w", n, err)
	}
	localSeq, localHash, err := q.Holds.Head(ctx)
	if err != nil {
		return err
	}
	sharedSeq, sharedHash, err := st.Head(ctx)
	if err != nil {
		return err
	}
	events := 0
	switch {
	case sharedSeq == localSeq && sharedHash == localHash:
		fmt.Fprintf(w, "audit chain: already imported (%d events)\n", localSeq)
	case sharedSeq != 0:
		return fmt.Errorf("the shared audit chain already has %d other events: import into a fresh database, before any node runs on it", sharedSeq)
	default:
		var after uint64
		for {
			page, next, err := q.Holds.EventsRange(ctx, hold.EventFilter{}, hold.EventPage{After: after, Limit: 1000})
			if err != nil {
				return err
			}
			n, err := st.ImportChain(ctx, page)
			if err != nil {
				return fmt.Errorf("import audit chain: %w", err)
			}
			events += n
			if next == 0 {
				break
			}
			after = next
		}
		fmt.Fprintf(w, "audit chain: %d events imported\n", events)
	}
	var ids []string
	if err := sp.DB().View(func(tx *bbolt.Tx) error { ids = hold.HeldIDsTx(tx, 1<<30); return nil }); err != nil {
		return err
	}
	added := 0
	for _, id := range ids {
		var h *hold.Record
		var rec *spool.Record
		var tokens []hold.Token
		err := sp.DB().View(func(tx *bbolt.Tx) error {
			var err error
			if h, err = hold.GetTx(tx, id); err != nil {
				return err
			}
			if rec, err = spool.GetTx(tx, id); err != nil {
				return err
			}
			tokens, err = hold.TokensTx(tx, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("read held %s: %w", id, err)
		}
		f, err := sp.OpenBody(id)
		if err != nil {
			return fmt.Errorf("read held %s: %w", id, err)
		}
		body, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read held %s: %w", id, err)
		}
		ok, err := st.InsertImported(ctx, h, rec, body, tokens)
		if err != nil {
			return fmt.Errorf("import held %s: %w", id, err)
		}
		if ok {
			added++
		}
	}
	fmt.Fprintf(w, "held mail: %d imported, %d already there\n", added, len(ids)-added)
	if err := importUsers(ctx, w, pool, sp.DB()); err != nil {
		return err
	}
	if err := importLinks(ctx, w, pool, sp.DB(), dataDir); err != nil {
		return err
	}
	if err := importNodeData(ctx, w, pool, sp.DB()); err != nil {
		return err
	}
	n, err := st.Verify(ctx)
	if err != nil {
		return fmt.Errorf("shared audit chain after the import: %w", err)
	}
	fmt.Fprintf(w, "shared audit chain verified: %d events\n", n)
	return nil
}

// importLinks copies the node's download links whose files are still
// kept: records, token hashes, download logs and the encrypted files as
// they are (every node reads the same link.key). One-time codes are not
// copied: a recipient asks for a new one.
func importLinks(ctx context.Context, w io.Writer, pool *pgxpool.Pool, db *bbolt.DB, dataDir string) error {
	keyPath := filepath.Join(dataDir, link.KeyFile)
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(w, "download links: none (no link.key)")
		return nil
	}
	key, err := link.LoadOrCreateKey(keyPath)
	if err != nil {
		return err
	}
	from, err := link.New(db, filepath.Join(dataDir, "links"), key, link.Options{})
	if err != nil {
		return err
	}
	to, err := linkpg.New(pool, key, link.Options{}, nil)
	if err != nil {
		return err
	}
	added, present := 0, 0
	err = from.Export(ctx, func(e *link.Exported) error {
		ok, err := to.Import(ctx, e)
		if err != nil {
			return err
		}
		if ok {
			added++
		} else {
			present++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import download links: %w", err)
	}
	fmt.Fprintf(w, "download links: %d packages imported, %d already there\n", added, present)
	return nil
}

// importUsers copies the node's console accounts (sessions are not: every
// reviewer signs in again).
func importUsers(ctx context.Context, w io.Writer, pool *pgxpool.Pool, db *bbolt.DB) error {
	from, err := console.NewBoltAccounts(db)
	if err != nil {
		return err
	}
	added, present, err := console.CopyUsers(ctx, from, consolepg.New(pool))
	if err != nil {
		return fmt.Errorf("import console accounts: %w", err)
	}
	fmt.Fprintf(w, "console accounts: %d imported, %d already there\n", added, present)
	return nil
}
