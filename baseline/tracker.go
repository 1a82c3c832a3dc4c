package baseline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// Store keeps the records. It is the Tracker's, the one consumer: a
// PostgreSQL store implements the same two calls (a row per sender,
// Save as one upsert transaction).
type Store interface {
	// Load returns the sender's record and whether there is one; a record
	// that does not decode is an error.
	Load(ctx context.Context, sender string) (Record, bool, error)
	// Save writes the records, keyed by Key(sender), at once.
	Save(ctx context.Context, recs map[string]Record) error
}

// DefaultMaxCached bounds the records a Tracker keeps in memory.
const DefaultMaxCached = 50_000

// Tracker keeps the baselines of the senders seen lately in memory in
// front of a Store: Lookup before the policy, Observe after acceptance,
// Flush (Run) to persist. It is safe for concurrent use.
type Tracker struct {
	store Store
	loc   *time.Location
	log   *slog.Logger
	max   int

	mu    sync.Mutex
	cache map[string]*entry
}

type entry struct {
	rec   Record
	dirty bool
	seq   uint64 // observations so far: a flush cleans only what it saved
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
	return &Tracker{store: store, loc: loc, log: log, max: maxCached, cache: map[string]*entry{}}
}

// get returns the sender's entry, loading it on a miss. Callers hold mu
// only around map access: a load happens outside it.
func (t *Tracker) get(ctx context.Context, key string) (*entry, error) {
	t.mu.Lock()
	e := t.cache[key]
	t.mu.Unlock()
	if e != nil {
		return e, nil
	}
	rec, _, err := t.store.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e = t.cache[key]; e == nil { // another goroutine may have loaded it
		t.evict()
		e = &entry{rec: rec}
		t.cache[key] = e
	}
	return e, nil
}

// evict drops clean entries while the cache is full (mu held). Dirty ones
// stay until flushed.
func (t *Tracker) evict() {
	if len(t.cache) < t.max {
		return
	}
	for k, e := range t.cache {
		if !e.dirty {
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
	e.dirty = true
	e.seq++
	t.mu.Unlock()
}

// ObservationOf is what a message adds to its sender's baseline.
func ObservationOf(rep *rules.Report, at time.Time) Observation {
	return Observation{At: at, External: rep.Recipients.External,
		AttachmentBytes:    policy.ExternalAttachmentBytes(rep),
		ExternalAttachment: rep.Recipients.External > 0 && len(rep.Attachments) > 0}
}

// Flush writes the records changed since the last flush in one Save.
// An entry stays dirty (so it is not evicted and reloaded stale) until a
// save of its latest observation has committed; one that fails to save is
// written by the next flush.
func (t *Tracker) Flush(ctx context.Context) error {
	t.mu.Lock()
	batch := map[string]Record{}
	seqs := map[string]uint64{}
	for k, e := range t.cache {
		if e.dirty {
			batch[k], seqs[k] = e.rec, e.seq
		}
	}
	t.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := t.store.Save(ctx, batch); err != nil {
		return err
	}
	t.mu.Lock()
	for k, seq := range seqs {
		if e := t.cache[k]; e != nil && e.seq == seq {
			e.dirty = false
		}
	}
	t.mu.Unlock()
	return nil
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
