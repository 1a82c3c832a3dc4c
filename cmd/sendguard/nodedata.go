package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/baseline/baselinepg"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/reports/reportspg"
	"github.com/sendguard/sendguard/web/console"
	"github.com/sendguard/sendguard/web/console/consolepg"
)

// What used to be each node's own and is shared with storage.driver
// postgres: stored reports, senders' baselines, the sign-in back-off and
// the audit chain the console and policy stats read. Each helper returns
// this node's store when s is nil (bbolt).

// baselineMaxAge is how old a clean cached baseline may be before a node
// reads it again: with the 5 s flush, a node sees another's observations
// of a sender within about 35 s, at one indexed read per sender and 30 s.
const baselineMaxAge = 30 * time.Second

// baselines is the tracker over the shared baselines (nil s: local).
func (s *sharedStore) baselines(local *baseline.Tracker, loc *time.Location, log *slog.Logger) *baseline.Tracker {
	if s == nil {
		return local
	}
	t := baseline.NewTracker(baselinepg.New(s.pool), loc, 0, log.With("component", "baselines"))
	t.SetMaxAge(baselineMaxAge)
	return t
}

// reportReader is what replay, shadow counts and the report stream read.
type reportReader interface {
	reports.RawSource
	console.ReportScanner
}

// reports are the reports to read: every node's when shared.
func (s *sharedStore) reports(local *reports.Bolt) reportReader {
	if s == nil {
		return local
	}
	return reportspg.New(s.pool)
}

// reportPurger deletes reports past retention.
type reportPurger interface {
	Purge(ctx context.Context, cutoff time.Time) (int, error)
}

// reportPurge is where the retention purge runs: the shared table when
// shared (each row is deleted by one node, which audits it).
func (s *sharedStore) reportPurge(local *reports.Bolt) reportPurger {
	if s == nil {
		return local
	}
	return reportspg.New(s.pool)
}

// auditChain is an audit chain to list, verify and append to.
type auditChain interface {
	console.AuditLog
}

// audit is the chain console events, report purges and policy stats use:
// the cluster's when shared.
func (s *sharedStore) audit(local *hold.Store) auditChain {
	if s == nil {
		return local
	}
	return s.node.Shared
}

// consoleSignIns counts failed console sign-ins across nodes; nil (this
// process) with bbolt.
func (s *sharedStore) consoleSignIns() console.SignInStore {
	if s == nil {
		return nil
	}
	return consolepg.NewSignIns(s.pool)
}

// shipReports copies this node's reports (written to bbolt at
// acceptance) to the shared table every interval until ctx ends, then
// once more.
func (s *sharedStore) shipReports(ctx context.Context, local *reports.Bolt, every time.Duration, log *slog.Logger) {
	sink := reportspg.New(s.pool)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		done := ctx.Err() != nil
		sctx := ctx
		if done {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
		}
		if _, err := reports.Ship(sctx, local, sink); err != nil && sctx.Err() == nil {
			log.Warn("copy reports to the shared store", "err", err)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// importNodeData copies a stopped node's stored reports and senders'
// baselines (sendguard db import). Run again, it adds only what is
// missing; a sender some node already has a shared baseline for keeps it.
func importNodeData(ctx context.Context, w io.Writer, pool *pgxpool.Pool, db *bbolt.DB) error {
	n, err := reports.Copy(ctx, &reports.Bolt{DB: db}, reportspg.New(pool))
	if err != nil {
		return fmt.Errorf("import reports: %w", err)
	}
	fmt.Fprintf(w, "stored reports: %d copied\n", n)
	dst := baselinepg.New(pool)
	batch := map[string]baseline.Record{}
	seen, added := 0, 0
	flush := func() error {
		k, err := dst.Import(ctx, batch)
		added += k
		clear(batch)
		return err
	}
	err = (&baseline.Bolt{DB: db}).All(func(key string, r baseline.Record) error {
		seen++
		batch[key] = r
		if len(batch) == 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("import sender baselines: %w", err)
	}
	fmt.Fprintf(w, "sender baselines: %d imported, %d already there\n", added, seen-added)
	return nil
}
