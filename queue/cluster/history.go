package cluster

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sendguard/sendguard/queue/pgstore"
)

// LocalHistory is a node's own recipient history (delivery.History):
// learned when its mail is delivered.
type LocalHistory interface {
	Known(domain string) bool
	Learned(since time.Time) ([]string, time.Time, error)
}

// knownTimeout bounds the shared lookup of a domain this node never
// delivered to: the recipient analysis of every such mail waits on it.
const knownTimeout = 300 * time.Millisecond

// History is the recipient history across the cluster (the first-time
// recipient check): a domain is known when this node delivered to it, or
// else when the shared table says another node did — one primary-key
// lookup, for domains this node has not seen only, remembered once true.
// Run copies what this node learns into the shared table in batches.
// While PostgreSQL does not answer, only this node's history counts (a
// domain looks first-time rather than the check waiting).
type History struct {
	local  LocalHistory
	shared *pgstore.Store
	log    *slog.Logger
	known  sync.Map // domain → struct{}: shared answers that were true
	// failedAt (unix nanoseconds) is the last failed shared lookup: for
	// failPause after it only this node's history answers, so an
	// unreachable database costs mail one timeout, not one per domain.
	failedAt atomic.Int64
}

const failPause = 5 * time.Second

// NewHistory joins this node's history and the shared table.
func NewHistory(local LocalHistory, shared *pgstore.Store, log *slog.Logger) *History {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &History{local: local, shared: shared, log: log.With("component", "shared history")}
}

// Known reports whether any node delivered to domain.
func (h *History) Known(domain string) bool {
	if h.local.Known(domain) {
		return true
	}
	if _, ok := h.known.Load(domain); ok {
		return true
	}
	if time.Since(time.Unix(0, h.failedAt.Load())) < failPause {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), knownTimeout)
	defer cancel()
	ok, err := h.shared.KnownDomain(ctx, domain)
	if err != nil {
		h.failedAt.Store(time.Now().UnixNano())
		return false
	}
	if ok {
		h.known.Store(domain, struct{}{})
	}
	return ok
}

// Sync copies the domains this node learned since since into the shared
// table and returns the time to pass next.
func (h *History) Sync(ctx context.Context, since time.Time) (time.Time, error) {
	domains, latest, err := h.local.Learned(since)
	if err != nil {
		return since, err
	}
	const chunk = 1000
	for i := 0; i < len(domains); i += chunk {
		if _, err := h.shared.AddDomains(ctx, domains[i:min(i+chunk, len(domains))], time.Now()); err != nil {
			return since, err
		}
	}
	// Deliveries commit with their own clock readings, not quite in order:
	// look a minute back next time (adding a known domain is a no-op).
	if latest.After(since) {
		latest = latest.Add(-time.Minute)
	}
	return latest, nil
}

// Run syncs at every interval until ctx ends; the first pass copies the
// whole local history (a node joining the cluster brings what it knows).
func (h *History) Run(ctx context.Context, interval time.Duration) {
	var since time.Time
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := h.Sync(ctx, since)
		if err != nil && ctx.Err() == nil {
			h.log.Warn("copy recipient history to the shared store", "err", err)
		}
		since = next
		t.Reset(interval)
	}
}
