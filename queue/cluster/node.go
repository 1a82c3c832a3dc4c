// Package cluster is one node's queue when several sendguard nodes share
// their held mail on PostgreSQL (storage.driver: postgres): the node's own
// queue (bbolt spool and hold store: in-flight mail stays local, as in
// Postfix) in front of the shared held queue (package pgstore).
//
// A message's way through it:
//
//	accepted here as held (local spool + local hold, fsynced, then 250)
//	  → Export: copied into PostgreSQL (idempotent by queue ID, with its
//	    tokens), then the local copy removed; a crash in between exports
//	    it again on start and nothing doubles
//	  → decided on any node: one conditional transaction in PostgreSQL
//	    (the row locked, still held?) that names the deciding node
//	  → Land: that node copies the message into its own spool (fsync) in
//	    its decided state with the steps the decision records (release,
//	    notice), in one local commit, then marks it landed; a crash in
//	    between lands it on restart (Unlanded) and the local record makes
//	    landing idempotent
//	  → delivered by the usual local step worker and delivery.
//
// Landing is never taken over by another node: the deciding node may
// have the message in its spool already, and a second copy elsewhere would
// be a second delivery. A node that dies in that short window delivers the
// message when it comes back, as Postfix does with its own queue.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/spool"
)

// ActionExport is the local audit action of a message moved to the shared
// held queue.
const ActionExport = "export"

// batch bounds the messages one pass of Run handles per kind of work.
const batch = 200

// Options configure a Node.
type Options struct {
	// OnStep wakes the local step worker after a landing recorded steps.
	OnStep func()
	// Retention keeps decided messages in the shared store this long
	// after their decision (hold.retention), then Run purges them once an
	// hour; 0 keeps them.
	Retention time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Node is this node's view of the cluster's queue.
type Node struct {
	Local  *queue.Queue
	Shared *pgstore.Store
	opts   Options
	log    *slog.Logger
	wake   chan struct{}
}

// New joins a local queue and the shared store.
func New(local *queue.Queue, shared *pgstore.Store, opts Options) *Node {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnStep == nil {
		opts.OnStep = func() {}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Node{Local: local, Shared: shared, opts: opts, log: log.With("component", "cluster", "node", shared.Node()),
		wake: make(chan struct{}, 1)}
}

// Wake makes Run export and land now (e.g. after a message was held).
func (n *Node) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Available tells whether the shared store answers within timeout: while
// it does not, mail that must be held is refused with a temporary error
// (the MTA retries) instead of staying on this node, where no other
// node's reviewer can see it.
func (n *Node) Available(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, _, err := n.Shared.Head(ctx)
	return err
}

// Export copies a message held here into the shared store and removes
// the local copy. A message already there (a retried export) is only
// removed here.
func (n *Node) Export(ctx context.Context, id string) error {
	var h *hold.Record
	var rec *spool.Record
	var tokens []hold.Token
	err := n.Local.Spool.DB().View(func(tx *bbolt.Tx) error {
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
	if errors.Is(err, hold.ErrNotFound) || errors.Is(err, spool.ErrNotFound) {
		return nil // exported meanwhile (the worker and a decision race)
	}
	if err != nil {
		return fmt.Errorf("read held message %s: %w", id, err)
	}
	if h.State != hold.StateHeld || rec.State != spool.StateHeld {
		return nil // decided here meanwhile: it stays a local message
	}
	f, err := n.Local.Spool.OpenBody(id)
	if errors.Is(err, fs.ErrNotExist) {
		if _, e := n.Local.Spool.Get(id); errors.Is(e, spool.ErrNotFound) {
			return nil // exported meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("open held body %s: %w", id, err)
	}
	body, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read held body %s: %w", id, err)
	}
	// The shared chain's hold event says what the local one said.
	actor, reason := hold.System, ""
	if evs, err := n.Local.Events(ctx, id); err == nil {
		for _, e := range evs {
			if e.Action == hold.ActionHold {
				actor, reason = e.Actor, e.Reason
				break
			}
		}
	}
	if _, err := n.Shared.Insert(ctx, h, rec, body, tokens, actor, reason); err != nil {
		return fmt.Errorf("copy %s to the shared store: %w", id, err)
	}
	err = n.Local.Spool.Commit(func(tx *bbolt.Tx) error {
		cur, err := spool.GetTx(tx, id)
		if errors.Is(err, spool.ErrNotFound) {
			return nil // removed by a concurrent export
		}
		if err != nil || cur.State != spool.StateHeld {
			return err
		}
		if err := hold.ForgetTx(tx, id); err != nil {
			return err
		}
		if err := spool.DeleteTx(tx, id); err != nil {
			return err
		}
		if _, err := n.Local.Holds.AppendEventTx(tx, hold.Event{MessageID: id, Actor: hold.System,
			Action: ActionExport, From: hold.StateHeld, Reason: "moved to the shared held queue"}); err != nil {
			return err
		}
		tx.OnCommit(func() { n.Local.Spool.RemoveBody(id) })
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove exported %s: %w", id, err)
	}
	return nil
}

// ExportPending exports every message held here, oldest first.
func (n *Node) ExportPending(ctx context.Context) (int, error) {
	var ids []string
	if err := n.Local.Spool.DB().View(func(tx *bbolt.Tx) error {
		ids = hold.HeldIDsTx(tx, batch)
		return nil
	}); err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, id := range ids {
		if err := n.Export(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

// Land copies a message this node decided into the local spool, in its
// decided state with the steps that follow, and marks it landed. It does
// nothing for a message already here.
func (n *Node) Land(ctx context.Context, id string) error {
	if _, err := n.Local.Spool.Get(id); err == nil {
		return n.Shared.MarkLanded(ctx, id)
	} else if !errors.Is(err, spool.ErrNotFound) {
		return err
	}
	h, err := n.Shared.Get(ctx, id)
	if err != nil {
		return err
	}
	if h.Node != n.Shared.Node() {
		return fmt.Errorf("%s was decided by node %s, not this one", id, h.Node)
	}
	if h.Hold.State == hold.StateHeld || h.Hold.State == hold.StateDeleted {
		return nil // nothing to deliver or tell
	}
	body, err := n.Shared.Body(ctx, id)
	if err != nil {
		return err
	}
	bw, err := n.Local.Spool.Create(id)
	if err != nil {
		return err
	}
	if _, err := bw.Write(body); err != nil {
		bw.Abort()
		return fmt.Errorf("write landed body: %w", err)
	}
	if _, err := bw.Commit(); err != nil {
		return fmt.Errorf("commit landed body: %w", err)
	}
	rec := landedRecord(h, n.opts.Now())
	err = n.Local.Spool.Accept(rec, func(tx *bbolt.Tx) error {
		if err := hold.ImportTx(tx, h.Hold); err != nil {
			return err
		}
		if len(rec.Steps) > 0 {
			tx.OnCommit(n.opts.OnStep)
		}
		return nil
	})
	if err != nil {
		// The body file is an orphan now; the spool removes it on start
		// and the next attempt writes it again.
		return fmt.Errorf("land %s: %w", id, err)
	}
	return n.Shared.MarkLanded(ctx, id)
}

// landedRecord is the spool record of a decided message with the steps
// package queue's hooks would have recorded for the same decision.
func landedRecord(h *pgstore.Held, now time.Time) *spool.Record {
	rec := *h.Message
	rec.Steps = nil
	hr := h.Hold
	switch hr.State {
	case hold.StateReleased:
		rec.State = spool.StateReleased
		rec.Steps = append(rec.Steps, spool.Step{Kind: spool.StepRelease, Mode: string(hr.Mode),
			Actions: slices.Clone(hr.Decision.Actions)})
	default:
		rec.State, rec.FinishedAt = spool.State(hr.State), now
	}
	if queue.NoticeDue(hr) {
		rec.Steps = append(rec.Steps, spool.Step{Kind: spool.StepNotice, Notice: string(hr.State)})
	}
	return &rec
}

// LandPending lands what this node decided but did not land (it stopped
// in between).
func (n *Node) LandPending(ctx context.Context) (int, error) {
	ids, err := n.Shared.Unlanded(ctx, batch)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, id := range ids {
		if err := n.Land(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

// Decide decides a message as actor from this node: a message held here
// and not yet exported is exported first, so every decision on held mail
// is taken in the one shared place. A message that is this node's own
// (queued, delivered, landed) goes to the local queue, which says why it
// cannot be decided.
func (n *Node) Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error) {
	if rec, err := n.Local.Spool.Get(id); err == nil {
		if rec.State != spool.StateHeld {
			return n.Local.Decide(ctx, id, to, actor, reason, mode)
		}
		if err := n.Export(ctx, id); err != nil {
			return nil, err
		}
	}
	hr, err := n.Shared.Decide(ctx, id, to, actor, reason, mode)
	if err != nil {
		return nil, n.explain(ctx, id, err)
	}
	if err := n.Land(ctx, id); err != nil {
		// The decision stands; Run lands it on its next pass.
		n.log.Warn("decided message not landed yet", "queue_id", id, "err", err)
		n.Wake()
	}
	return hr, nil
}

// explain turns a shared store error into the message's state, as
// package queue does for its own.
func (n *Node) explain(ctx context.Context, id string, err error) error {
	var de *hold.DecidedError
	switch {
	case errors.As(err, &de):
		return &queue.StateError{ID: id, State: string(de.State), By: de.By.Name}
	case errors.Is(err, hold.ErrNotFound):
		if srec, e := n.Local.Spool.Get(id); e == nil {
			return &queue.StateError{ID: id, State: string(srec.State)}
		}
		return fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	return err
}

// Delete removes a message as an admin: a held one in the shared store,
// any other in this node's queue.
func (n *Node) Delete(ctx context.Context, id string, actor hold.Actor, reason string) error {
	if rec, err := n.Local.Spool.Get(id); err == nil {
		if rec.State != spool.StateHeld {
			return n.Local.Delete(ctx, id, actor, reason)
		}
		if err := n.Export(ctx, id); err != nil {
			return err
		}
	}
	_, err := n.Shared.Decide(ctx, id, hold.StateDeleted, actor, reason, "")
	if err != nil {
		return n.explain(ctx, id, err)
	}
	return nil
}

// Message is a message's record: this node's own, or the shared store's
// (in its hold state, without steps) for one held or decided elsewhere.
func (n *Node) Message(ctx context.Context, id string) (*spool.Record, error) {
	rec, err := n.Local.Spool.Get(id)
	if err == nil {
		return rec, nil
	}
	if !errors.Is(err, spool.ErrNotFound) {
		return nil, err
	}
	h, err := n.Shared.Get(ctx, id)
	if errors.Is(err, hold.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	rec = h.Message
	rec.State, rec.Steps = spool.State(h.Hold.State), nil
	return rec, nil
}

// Events is a message's history: the cluster's chain (hold and decision)
// followed by this node's own events (export, and what happened to it
// after it landed here).
func (n *Node) Events(ctx context.Context, id string) ([]hold.Event, error) {
	shared, err := n.Shared.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	local, err := n.Local.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	out := shared
	for _, e := range local {
		if e.Action == hold.ActionHold || e.Action == ActionExport {
			continue // the shared chain has the hold
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Tick decides the held messages whose deadline passed, across the
// cluster (rows another node is deciding are skipped), and lands them here.
func (n *Node) Tick(ctx context.Context, now time.Time) (int, error) {
	ids, err := n.Shared.Tick(ctx, now, batch)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		if err := n.Land(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ids), errors.Join(errs...)
}

// Run exports, lands and fires deadlines until ctx ends: when woken, at
// the earliest deadline, and at least every interval. A failing shared
// store is retried at the next pass; nothing is lost meanwhile (held mail
// waits in this node's spool, decided mail in the shared store).
func (n *Node) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	var lastPurge time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
		}
		n.pass(ctx)
		if now := n.opts.Now(); n.opts.Retention > 0 && now.Sub(lastPurge) >= time.Hour {
			if k, err := n.Shared.Purge(ctx, now.Add(-n.opts.Retention)); err != nil && ctx.Err() == nil {
				n.log.Warn("purge the shared held queue", "err", err)
			} else if k > 0 {
				n.log.Info("purged decided messages from the shared held queue", "count", k)
			}
			lastPurge = now
		}
		wait := interval
		if next, ok, err := n.Shared.NextDeadline(ctx); err == nil && ok {
			wait = min(interval, max(time.Until(next), 10*time.Millisecond))
		}
		t.Reset(wait)
	}
}

func (n *Node) pass(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			n.log.Error("panic in the cluster worker", "panic", p)
		}
	}()
	if _, err := n.ExportPending(ctx); err != nil && ctx.Err() == nil {
		n.log.Warn("export to the shared held queue", "err", err)
	}
	if _, err := n.LandPending(ctx); err != nil && ctx.Err() == nil {
		n.log.Warn("land decided messages", "err", err)
	}
	if _, err := n.Tick(ctx, n.opts.Now()); err != nil && ctx.Err() == nil {
		n.log.Warn("deadlines of the shared held queue", "err", err)
	}
}

// Verify checks this node's own audit chain and then the cluster's, and
// returns the number of events in the cluster's.
func (n *Node) Verify(ctx context.Context) (uint64, error) {
	if _, err := n.Local.Verify(ctx); err != nil {
		return 0, fmt.Errorf("this node's audit chain: %w", err)
	}
	return n.Shared.Verify(ctx)
}

// Pages is the confirm/approve pages' view of the cluster (web.TokenStore):
// a link made on any node works on every node, and the answer for a
// message already decided is hold's own (*hold.DecidedError), so the page
// says by whom and when.
type Pages struct{ n *Node }

// Pages returns the pages' view.
func (n *Node) Pages() Pages { return Pages{n} }

// LookupToken checks a token in the shared store without consuming it.
func (p Pages) LookupToken(ctx context.Context, hash [32]byte, role hold.Role, now time.Time) (*hold.Token, *hold.Record, error) {
	return p.n.Shared.LookupToken(ctx, hash, role, now)
}

// TransitionWithToken decides through a token and lands the message here.
func (p Pages) TransitionWithToken(ctx context.Context, hash [32]byte, role hold.Role, to hold.State, actor hold.Actor, reason string, opts ...hold.TransitionOption) (*hold.Record, error) {
	mode := hold.ReleaseMode("")
	if to == hold.StateReleased {
		mode = hold.ModeOf(opts...)
	}
	rec, err := p.n.Shared.DecideWithToken(ctx, hash, role, to, actor, reason, mode)
	if err != nil {
		return rec, err
	}
	if err := p.n.Land(ctx, rec.ID); err != nil {
		p.n.log.Warn("decided message not landed yet", "queue_id", rec.ID, "err", err)
		p.n.Wake()
	}
	return rec, nil
}

// Approve records an approval from this node (N of M across the
// cluster); the approval that releases the message lands it here.
func (n *Node) Approve(ctx context.Context, id string, actor hold.Actor, reason string) (*hold.Record, error) {
	if rec, err := n.Local.Spool.Get(id); err == nil {
		if rec.State != spool.StateHeld {
			return n.Local.Approve(ctx, id, actor, reason)
		}
		if err := n.Export(ctx, id); err != nil {
			return nil, err
		}
	}
	hr, err := n.Shared.Approve(ctx, id, actor, reason)
	if errors.Is(err, hold.ErrAlreadyApproved) || errors.Is(err, hold.ErrNotApprover) {
		return hr, err
	}
	if err != nil {
		return nil, n.explain(ctx, id, err)
	}
	n.landIfDecided(ctx, hr)
	return hr, nil
}

// landIfDecided lands a message an approval or token decided here.
func (n *Node) landIfDecided(ctx context.Context, hr *hold.Record) {
	if hr == nil || !hr.State.Final() {
		return
	}
	if err := n.Land(ctx, hr.ID); err != nil {
		n.log.Warn("decided message not landed yet", "queue_id", hr.ID, "err", err)
		n.Wake()
	}
}

// ApproveWithToken counts an approver's link approval across the cluster.
func (p Pages) ApproveWithToken(ctx context.Context, hash [32]byte, role hold.Role, actor hold.Actor, reason string) (*hold.Record, error) {
	rec, err := p.n.Shared.ApproveWithToken(ctx, hash, role, actor, reason)
	if err != nil {
		return rec, err
	}
	p.n.landIfDecided(ctx, rec)
	return rec, nil
}

// SharedList lists the messages the shared store holds or decided that are
// not this node's own, as records in their hold state (without steps):
// state "" lists held ones, all every one.
func (n *Node) SharedList(ctx context.Context, state string, all bool) ([]*spool.Record, error) {
	q := state
	if q == "" && !all {
		q = string(hold.StateHeld)
	}
	list, err := n.Shared.List(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []*spool.Record
	for _, h := range list {
		if _, err := n.Local.Spool.Get(h.Message.ID); err == nil {
			continue // listed from this node's spool
		}
		rec := h.Message
		rec.State, rec.Steps = spool.State(h.Hold.State), nil
		out = append(out, rec)
	}
	return out, nil
}
