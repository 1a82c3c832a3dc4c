package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/crypto/atrest"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/gateway/delivery"
	"github.com/sendguard/sendguard/gateway/disposition"
	"github.com/sendguard/sendguard/gateway/intake"
	"github.com/sendguard/sendguard/link"
	"github.com/sendguard/sendguard/link/linkpg"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/cluster"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/web"
)

// sharedStore is this node's place in a cluster sharing its held queue on
// PostgreSQL (storage.driver: postgres); nil with the bbolt default.
type sharedStore struct {
	node    *cluster.Node
	pg      *pgstore.Store
	history *cluster.History
	pool    *pgxpool.Pool
	close   func()
}

// sharedKeyFiles are the keys a token, session or download link made on
// one node is checked with on another: every node must read the same.
func sharedKeyFiles(cfg *config.Config) []pgstore.KeyFile {
	return []pgstore.KeyFile{
		{Name: "web.key", Path: filepath.Join(cfg.DataDir, "web.key")},
		{Name: link.KeyFile, Path: filepath.Join(cfg.DataDir, link.KeyFile)},
		{Name: "link-web.key", Path: filepath.Join(cfg.DataDir, "link-web.key")},
	}
}

// openShared joins the cluster: the schema must be the one this build
// knows and the key files the ones the other nodes read.
// Its recipient history joins local's.
func openShared(cfg *config.Config, q *queue.Queue, log *slog.Logger, onStep func(), local *delivery.History) (*sharedStore, error) {
	if !cfg.Storage.Postgres() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgstore.Connect(ctx, cfg.Storage.DSN, cfg.Storage.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	st, err := pgstore.New(ctx, pool, pgstore.Options{Node: cfg.Storage.NodeName(), Logger: log})
	if err == nil {
		err = st.CheckKeys(ctx, sharedKeyFiles(cfg))
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	node := cluster.New(q, st, cluster.Options{OnStep: onStep, Retention: cfg.Hold.Retention, Logger: log})
	log.Info("sharing the held queue on PostgreSQL", "node", st.Node())
	return &sharedStore{node: node, pg: st, pool: pool, close: pool.Close,
		history: cluster.NewHistory(local, node.Shared, log)}, nil
}

// links is the download-link store: with storage.driver postgres the
// cluster's (files and records in the database, encrypted under the
// shared link.key), so a link made on one node downloads through any;
// otherwise local, this node's bbolt DB and disk. Packages made before the
// switch are served once `sendguard db import` copied them.
func (s *sharedStore) links(local *link.Store, key *atrest.MasterKey, log *slog.Logger) (link.Storage, error) {
	if s == nil {
		return local, nil
	}
	return linkpg.New(s.pool, key, link.Options{Logger: log}, s.pg)
}

func (s *sharedStore) Close() {
	if s != nil {
		s.close()
	}
}

// adminQueue is what sendguard queue release|reject|delete|history and
// audit verify act on: the cluster's queue, so a message held by any node
// is decided from this one.
func (s *sharedStore) adminQueue(q *queue.Queue) adminapi.AdminQueue {
	if s == nil {
		return q
	}
	return s.node
}

// inspector puts the shared store's availability in front of holding:
// while PostgreSQL does not answer, mail the policy holds gets 451 4.3.0
// (the MTA retries it) rather than being held where no other node's
// reviewer sees it; mail the policy delivers never waits on PostgreSQL.
func (s *sharedStore) inspector(in *disposition.PolicyInspector) intake.Inspector {
	if s == nil {
		return in
	}
	return sharedHoldInspector{Inspector: in, node: s.node}
}

// holdCheckTimeout bounds the availability check of a message to be held.
const holdCheckTimeout = 2 * time.Second

type sharedHoldInspector struct {
	intake.Inspector
	node *cluster.Node
}

func (s sharedHoldInspector) Inspect(ctx context.Context, in *disposition.Inbound) (*disposition.Verdict, error) {
	v, err := s.Inspector.Inspect(ctx, in)
	if err != nil || v == nil || v.Hold == nil {
		return v, err
	}
	if err := s.node.Available(ctx, holdCheckTimeout); err != nil {
		s.Inspector.Discard(v)
		return nil, fmt.Errorf("shared held queue unavailable: %w", err)
	}
	return v, nil
}

// onQueued also wakes the exporter after an acceptance (held mail goes
// to the shared store within a pass, not a poll interval).
func (s *sharedStore) onQueued(next func(string)) func(string) {
	if s == nil {
		return next
	}
	return func(id string) {
		next(id)
		s.node.Wake()
	}
}

// pageTokens are the confirm/approve pages' tokens: this node's, or the
// shared store's with storage.driver postgres.
type pageTokens struct {
	web.TokenStore
	node *cluster.Node // nil with bbolt
}

// pageTokens is where the pages find their tokens; local is this node's.
func (s *sharedStore) pageTokens(local web.TokenStore) *pageTokens {
	if s == nil {
		return &pageTokens{TokenStore: local}
	}
	return &pageTokens{TokenStore: s.node.Pages(), node: s.node}
}

// preview is the confirm page's body preview: from this node's spool, or
// from the shared store for mail held by the cluster.
func (p *pageTokens) preview(store *spool.Store, id string) string {
	if s := bodyPreview(store, id); s != "" || p.node == nil {
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := p.node.Shared.Body(ctx, id)
	if err != nil {
		return ""
	}
	return previewOf(bytes.NewReader(b))
}

// adminShared lets sendguard queue list|show include the cluster's held
// mail; nil with bbolt.
func (s *sharedStore) adminShared() adminapi.SharedQueue {
	if s == nil {
		return nil
	}
	return s.node
}

// register adds sendguard_shared_store_up: 1 while PostgreSQL answers
// (mail to hold is accepted), 0 while it does not (such mail gets 451).
func (s *sharedStore) register(reg *prometheus.Registry) {
	if s == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sendguard_shared_store_up",
		Help: "1 while the shared held queue (PostgreSQL) answers, 0 while mail to be held is refused with 451."},
		func() float64 {
			if s.node.Available(context.Background(), time.Second) != nil {
				return 0
			}
			return 1
		}))
}

// historySlot is the recipient history the analysis asks: this node's,
// or the cluster's with the shared store.
type historySlot struct {
	local  *delivery.History
	shared *cluster.History // nil with bbolt
}

func (h *historySlot) Known(domain string) bool {
	if h.shared != nil {
		return h.shared.Known(domain)
	}
	return h.local.Known(domain)
}

// recipientHistory is the history the analysis asks.
func (s *sharedStore) recipientHistory(local *delivery.History) *historySlot {
	if s == nil {
		return &historySlot{local: local}
	}
	return &historySlot{local: local, shared: s.history}
}
