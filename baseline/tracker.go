package baseline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// Store keeps the records. It is the Tracker's, the one consumer: the
// node's bbolt database or the PostgreSQL database nodes share (a row per
// sender).
type Store interface {
	// Load returns the sender's record and whether there is one; a record
	// that does not decode is an error.
	Load(ctx context.Context, sender string) (Record, bool, error)
	// Merge applies each sender's observations (keyed by Key(sender)) to
	// the stored record with apply, all in one transaction in which no
	// other writer changes those records, and returns the records as
	// stored. Nodes sharing a store each merge their own observations, so
	// none overwrites another's; a record that does not decode starts
	// anew.
	Merge(ctx context.Context, obs map[string][]Observation, apply func(*Record, []Observation)) (map[string]Record, error)
}

// DefaultMaxCached bounds the records a Tracker keeps in memory.
const DefaultMaxCached = 50_000

// maxPending bounds one sender's observations waiting for a flush (a
// store that stays down): past it they count here only.
const maxPending = 10_000

// Tracker keeps the baselines of the senders seen lately in memory in
// front of a Store: Lookup before the policy, Observe after acceptance,
// Flush (Run) to persist. It is safe for concurrent use.
//
// A cached record is the stored one as last read plus this node's
// observations since; Flush merges those into the store and takes back
// the merged record, which carries other nodes' observations too. With
// SetMaxAge a clean record older than that is read again at its next use,
// so a node sees another's senders within the flush interval plus that
// age, at the cost of at most one indexed read per message.
type Tracker struct {
	store  Store
	loc    *time.Location
	log    *slog.Logger
	max    int
	maxAge time.Duration
	now    func() time.Time

	flushMu sync.Mutex // one Flush at a time: a snapshot is merged once

	mu    sync.Mutex
	cache map[string]*entry
}

type entry struct {
	rec     Record
	pending []Observation // applied to rec, not yet merged into the store
	loaded  time.Time     // when rec was last read from or merged into the store
}

// NewTracker returns a tracker over store whose days and hours are those
// of loc (nil: UTC). maxCached 0 means DefaultMaxCached.
func NewTracker(store Store, loc *time.Location, maxCached int, log *slog.Logger) *Tracker {
	if loc == nil {
		loc = time.UTC
	}
	if maxCached <= 0 {
		maxCached = DefaultMaxCached
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{store: store, loc: loc, log: log, max: maxCached, now: time.Now, cache: map[string]*entry{}}
}

// SetMaxAge makes a clean cached record older than d be read again (a
// store that other nodes write too); 0, the default, keeps it until
// evicted. Call before use.
func (t *Tracker) SetMaxAge(d time.Duration) { t.maxAge = d }

// get returns the sender's entry, loading it on a miss or when stale.
// Callers hold mu only around map access: a load happens outside it.
func (t *Tracker) get(ctx context.Context, key string) (*entry, error) {
	t.mu.Lock()
	e := t.cache[key]
	stale := e != nil && t.maxAge > 0 && len(e.pending) == 0 && t.now().Sub(e.loaded) > t.maxAge
	t.mu.Unlock()
	if e != nil && !stale {
		return e, nil
	}
	rec, _, err := t.store.Load(ctx, key)
	if err != nil {
		if stale {
			return e, nil // the cached record still serves
		}
		return nil, err
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.cache[key]
	switch {
	case cur == nil: // another goroutine may have loaded it
		t.evict()
		cur = &entry{rec: rec, loaded: now}
		t.cache[key] = cur
	case len(cur.pending) == 0 && now.After(cur.loaded):
		cur.rec, cur.loaded = rec, now
	}
	return cur, nil
}

// evict drops clean entries while the cache is full (mu held). Dirty ones
// stay until flushed.
func (t *Tracker) evict() {
	if len(t.cache) < t.max {
		return
	}
	for k, e := range t.cache {
		if len(e.pending) == 0 {
			delete(t.cache, k)
			if len(t.cache) < t.max*9/10 {
				return
			}
		}
	}
}

// Lookup is the sender's behaviour before a message at at; nil for the
// null sender or when the store fails (the policy then sees no history).
func (t *Tracker) Lookup(ctx context.Context, sender string, at time.Time) *rules.SenderBehaviour {
	if sender == "" {
		return nil
	}
	e, err := t.get(ctx, Key(sender))
	if err != nil {
		t.log.Warn("sender baseline unavailable", "err", err)
		return nil
	}
	t.mu.Lock()
	rec := e.rec
	t.mu.Unlock()
	return rec.Behaviour(at, t.loc)
}

// Observe adds an accepted message to its sender's baseline (in memory;
// Flush persists it).
func (t *Tracker) Observe(ctx context.Context, sender string, o Observation) {
	if sender == "" {
		return
	}
	key := Key(sender)
	e, err := t.get(ctx, key)
	if err != nil {
		t.log.Warn("sender baseline not updated", "err", err)
		return
	}
	t.mu.Lock()
	// A clean entry may have been evicted since get: keep the one in the
	// cache, or put this one back.
	if cur := t.cache[key]; cur != nil {
		e = cur
	} else {
		t.cache[key] = e
	}
	e.rec.Observe(o, t.loc)
	if len(e.pending) < maxPending {
		e.pending = append(e.pending, o)
	}
	t.mu.Unlock()
}

// ObservationOf is what a message adds to its sender's baseline.
func ObservationOf(rep *rules.Report, at time.Time) Observation {
	return Observation{At: at, External: rep.Recipients.External,
		AttachmentBytes:    policy.ExternalAttachmentBytes(rep),
		ExternalAttachment: rep.Recipients.External > 0 && len(rep.Attachments) > 0}
}

// Flush merges the observations made since the last flush into the
// store in one Merge and takes back the merged records. An entry stays
// dirty (so it is not evicted and reloaded stale) until its observations
// have been merged; those of a failed merge go with the next flush.
func (t *Tracker) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	batch := map[string][]Observation{}
	for k, e := range t.cache {
		if len(e.pending) > 0 {
			// Observe only appends, so this prefix stays as it is.
			batch[k] = e.pending[:len(e.pending):len(e.pending)]
		}
	}
	t.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	merged, err := t.store.Merge(ctx, batch, t.apply)
	if err != nil {
		return err
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, done := range batch {
		e := t.cache[k]
		if e == nil { // not evicted while dirty; be safe anyway
			continue
		}
		rec := merged[k]
		rest := e.pending[len(done):]
		t.apply(&rec, rest)
		e.rec, e.loaded = rec, now
		e.pending = append([]Observation(nil), rest...)
		if len(e.pending) == 0 {
			e.pending = nil
		}
	}
	return nil
}

func (t *Tracker) apply(r *Record, obs []Observation) {
	for _, o := range obs {
		r.Observe(o, t.loc)
	}
}

// Run flushes every interval until ctx ends, then once more.
func (t *Tracker) Run(ctx context.Context, every time.Duration) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := t.Flush(context.WithoutCancel(ctx)); err != nil {
				t.log.Error("flush sender baselines", "err", err)
			}
			return
		case <-tk.C:
			if err := t.Flush(ctx); err != nil {
				t.log.Error("flush sender baselines", "err", err)
			}
		}
	}
}

// Learn is Observe with the observation of an accepted message's report.
func (t *Tracker) Learn(ctx context.Context, sender string, rep *rules.Report, at time.Time) {
	t.Observe(ctx, sender, ObservationOf(rep, at))
}
