package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// SharedQueue is the held queue several nodes share (storage.driver
// postgres). With it the console lists, shows and decides the held mail
// of every node, not only this node's spool. A decision goes through the
// shared store's one conditional transaction, so two reviewers on two
// nodes get one release and one "already decided".
type SharedQueue interface {
	// HeldRecords lists the shared store's records in state (every state
	// when ""), oldest first, without reports, up to the store's bound.
	HeldRecords(ctx context.Context, state hold.State) ([]*hold.Record, error)
	// HeldRecord is one record with its report; hold.ErrNotFound when the
	// shared store does not have it.
	HeldRecord(ctx context.Context, id string) (*hold.Record, error)
	// HeldBody is the message's bytes from the shared store.
	HeldBody(ctx context.Context, id string) ([]byte, error)
	// Counts are the shared store's records per state.
	Counts(ctx context.Context) (map[hold.State]int, error)
	// Events is a message's history: the cluster's chain, then this node's.
	Events(ctx context.Context, id string) ([]hold.Event, error)
	// Decide releases or rejects from this node; a message decided
	// already answers with an error that wraps hold.ErrAlreadyDecided.
	Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error)
	// Note appends a reviewer's note to the cluster's audit chain.
	Note(ctx context.Context, e hold.Event) error
	// RecordsSince lists up to limit records of every node created or
	// decided since from, newest first, the newest withReports with their
	// reports (dashboard charts).
	RecordsSince(ctx context.Context, from time.Time, limit, withReports int) ([]*hold.Record, error)
	// Up is nil while the shared store answers (mail to hold is
	// accepted); the console shows an outage banner while it is not.
	Up(ctx context.Context) error
}

// upTimeout bounds the shared store's health check made for a page.
const upTimeout = time.Second

// sharedDown reports whether the shared store does not answer now.
func (h *Handler) sharedDown(ctx context.Context) bool {
	if h.shared == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, upTimeout)
	defer cancel()
	return h.shared.Up(ctx) != nil
}

// getRecord is a message's hold record: this node's, else the shared
// store's. A record held in both (landed here after a decision) is this
// node's, which knows what happened after.
func (h *Handler) getRecord(ctx context.Context, id string) (*hold.Record, error) {
	rec, err := h.hold.Get(ctx, id)
	if h.shared == nil || !errors.Is(err, hold.ErrNotFound) {
		return rec, err
	}
	return h.shared.HeldRecord(ctx, id)
}

// events is a message's history, across the cluster when shared.
func (h *Handler) events(ctx context.Context, id string) ([]hold.Event, error) {
	if h.shared != nil {
		return h.shared.Events(ctx, id)
	}
	return h.hold.Events(ctx, id)
}

// openBody opens a message's bytes: this node's spool file, else the
// shared store's copy. It returns the size too.
func (h *Handler) openBody(ctx context.Context, id string) (spool.Body, int64, error) {
	if h.spool != nil {
		f, err := h.spool.OpenBody(id)
		if err == nil {
			size, err := f.Seek(0, io.SeekEnd)
			if err == nil {
				_, err = f.Seek(0, io.SeekStart)
			}
			if err != nil {
				f.Close()
				return nil, 0, err
			}
			return f, size, nil
		}
		if h.shared == nil || !errors.Is(err, os.ErrNotExist) {
			return nil, 0, err
		}
	}
	if h.shared == nil {
		return nil, 0, os.ErrNotExist
	}
	b, err := h.shared.HeldBody(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return spool.BytesBody(b), int64(len(b)), nil
}

// transition decides a message: in the shared store when shared (which
// exports a message still held here first), else in this node's.
func (h *Handler) transition(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) error {
	if h.shared != nil {
		_, err := h.shared.Decide(ctx, id, to, actor, reason, mode)
		return err
	}
	var opts []hold.TransitionOption
	if to == hold.StateReleased {
		opts = append(opts, hold.WithMode(mode))
	}
	_, err := h.hold.Transition(ctx, id, to, actor, reason, opts...)
	return err
}

func (h *Handler) note(ctx context.Context, e hold.Event) error {
	if h.shared != nil {
		return h.shared.Note(ctx, e)
	}
	_, err := h.hold.AppendEvent(ctx, e)
	return err
}

// matches applies a queue filter to a record as hold's index does.
func matches(f hold.Filter, r *hold.Record) bool {
	eq := func(want, got string) bool {
		return want == "" || strings.EqualFold(strings.TrimSpace(want), got)
	}
	switch {
	case f.State != "" && f.State != r.State, f.Kind != "" && f.Kind != r.Kind,
		!eq(f.Sender, r.Sender),
		!f.From.IsZero() && r.CreatedAt.Before(f.From), !f.To.IsZero() && !r.CreatedAt.Before(f.To):
		return false
	}
	if f.Rule != "" && !slices.ContainsFunc(r.Decision.Rules, func(s string) bool { return eq(f.Rule, s) }) {
		return false
	}
	if f.RecipientDomain != "" && !slices.ContainsFunc(r.Recipients.Domains, func(s string) bool { return eq(f.RecipientDomain, s) }) {
		return false
	}
	return true
}

// sharedScan bounds the records of this node read for one shared listing.
const sharedScan = 500

// listShared is the queue page's listing with a shared store: the shared
// store's records and this node's own (held but not yet moved there, or
// never shared), one of each ID, filtered and sorted; the cursor is an
// offset into that list.
func (h *Handler) listShared(r *http.Request, q queueQuery, f hold.Filter) (queueResult, error) {
	ctx := r.Context()
	shared, err := h.shared.HeldRecords(ctx, f.State)
	if err != nil {
		return queueResult{}, err
	}
	local, err := h.hold.List(ctx, f, hold.Page{Limit: sharedScan})
	if err != nil {
		return queueResult{}, err
	}
	seen := map[string]bool{}
	var all []*hold.Record
	for _, rec := range local.Records {
		seen[rec.ID] = true
		all = append(all, rec)
	}
	for _, rec := range shared {
		if !seen[rec.ID] && matches(f, rec) {
			seen[rec.ID] = true
			all = append(all, rec)
		}
	}
	slices.SortStableFunc(all, func(a, b *hold.Record) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Sort != "oldest" {
			c = -c
		}
		return c
	})
	if q.Detector != "" {
		kept := all[:0]
		for i, rec := range all {
			if i >= detectorScan {
				break
			}
			full, err := h.getRecord(ctx, rec.ID)
			if err == nil && hasDetector(full.Report, q.Detector) {
				kept = append(kept, rec)
			}
		}
		all = kept
	}
	off := 0
	if q.Cursor != "" {
		if off, err = strconv.Atoi(q.Cursor); err != nil || off < 0 {
			return queueResult{}, errBadQuery
		}
	}
	var res queueResult
	if off < len(all) {
		end := min(off+q.Limit, len(all))
		res.Records = all[off:end]
		if end < len(all) {
			res.Next = strconv.Itoa(end)
		}
	}
	return res, nil
}

// sharedCounts are the queue tabs' and dashboard's numbers with a shared
// store: its records per state, plus this node's held ones not moved
// there yet (held mail is never in both).
func (h *Handler) sharedCounts(ctx context.Context, local hold.Counts) (hold.Counts, error) {
	byState, err := h.shared.Counts(ctx)
	if err != nil {
		return local, err
	}
	held, err := h.shared.HeldRecords(ctx, hold.StateHeld)
	if err != nil {
		return local, err
	}
	c := hold.Counts{ByState: map[hold.State]int{}, HeldByKind: map[hold.Kind]int{}}
	for st, n := range byState {
		c.ByState[st] = n
	}
	c.ByState[hold.StateHeld] += local.ByState[hold.StateHeld]
	for k, n := range local.HeldByKind {
		c.HeldByKind[k] = n
	}
	for _, r := range held {
		c.HeldByKind[r.Kind]++
	}
	return c, nil
}

// AuditLog is an audit chain the console reads and writes: this node's
// hold store, or the cluster's chain on PostgreSQL.
type AuditLog interface {
	EventsRange(ctx context.Context, f hold.EventFilter, p hold.EventPage) ([]hold.Event, uint64, error)
	Verify(ctx context.Context) (uint64, error)
	AppendEvent(ctx context.Context, e hold.Event) (hold.Event, error)
}
