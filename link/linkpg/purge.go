package linkpg

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/link"
)

// Purge deletes the files of packages expired or revoked by now, and the
// records, tokens, codes and download logs of packages past expiry plus
// retention. Each batch takes its rows with SKIP LOCKED: a package being
// downloaded waits for the next run, and two nodes purging at once never
// take the same package. There are no orphans: files commit with their
// record.
func (s *Store) Purge(ctx context.Context, now time.Time) (link.PurgeStats, error) {
	var st link.PurgeStats
	for {
		n, err := s.purgeStep(ctx, `WITH due AS (
				SELECT id FROM link_packages WHERE files_due <= $1 ORDER BY files_due LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE link_packages p SET files_due = NULL, info = jsonb_set(p.info, '{files_purged}', 'true')
			FROM due WHERE p.id = due.id RETURNING p.id, p.message_id`, now, false)
		st.Files += n
		if err != nil {
			return st, err
		}
		if n < purgeBatch {
			break
		}
	}
	for {
		n, err := s.purgeStep(ctx, `WITH due AS (
				SELECT id FROM link_packages WHERE records_due <= $1 ORDER BY records_due LIMIT $2 FOR UPDATE SKIP LOCKED)
			DELETE FROM link_packages p USING due WHERE p.id = due.id RETURNING p.id, p.message_id`, now, true)
		st.Records += n
		if err != nil {
			return st, err
		}
		if n < purgeBatch {
			break
		}
	}
	return st, nil
}

func (s *Store) purgeStep(ctx context.Context, q string, now time.Time, records bool) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, now, purgeBatch)
		if err != nil {
			return err
		}
		type row struct{ ID, MessageID string }
		due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if err != nil {
			return err
		}
		n = len(due)
		if n == 0 {
			return nil
		}
		ids := make([]string, n)
		for i, r := range due {
			ids[i] = r.ID
		}
		if _, err := tx.Exec(ctx, `DELETE FROM link_chunks WHERE package_id = ANY($1)`, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM link_files WHERE package_id = ANY($1)`, ids); err != nil {
			return err
		}
		if !records {
			return nil
		}
		for _, r := range due {
			if err := s.auditTx(ctx, tx, hold.Event{MessageID: r.MessageID, Action: "link_purged", Actor: hold.System}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("link: purge: %w", err)
	}
	return n, nil
}

// Import adds a package exported from a node's own store (sendguard db
// import), with its tokens, download log and encrypted files as they are:
// the nodes share the link key. It reports false when the package is
// already there. No audit event is written: the node's chain, imported
// first, has them.
func (s *Store) Import(ctx context.Context, e *link.Exported) (bool, error) {
	added := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM link_packages WHERE id = $1)`, e.Info.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		if err := insertPackage(ctx, tx, &e.Info, s.opts.Retention); err != nil {
			return err
		}
		var sizes []int64
		for n := range e.Info.Files {
			size, err := s.copyFile(ctx, tx, e, n)
			if err != nil {
				return fmt.Errorf("link: import file %d of %s: %w", n, e.Info.ID, err)
			}
			sizes = append(sizes, size)
		}
		if err := insertFiles(ctx, tx, e.Info.ID, sizes); err != nil {
			return err
		}
		if err := insertTokens(ctx, tx, e.Info.ID, e.Tokens); err != nil {
			return err
		}
		for _, d := range e.Log {
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO link_log (package_id, entry) VALUES ($1, $2)`, e.Info.ID, string(v)); err != nil {
				return fmt.Errorf("link: put download: %w", err)
			}
		}
		added = true
		return nil
	})
	return added, err
}

func (s *Store) copyFile(ctx context.Context, tx pgx.Tx, e *link.Exported, n int) (int64, error) {
	f, size, err := e.Open(n)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cw := &chunkWriter{ctx: ctx, tx: tx, id: e.Info.ID, n: n, buf: make([]byte, 0, ChunkSize)}
	if _, err := io.Copy(cw, f); err != nil {
		return 0, err
	}
	if err := cw.flush(); err != nil {
		return 0, err
	}
	if cw.total != size {
		return 0, fmt.Errorf("copied %d bytes of %d", cw.total, size)
	}
	return size, nil
}
