// Package queue owns the life of a message from acceptance to its end, as
// one state machine over the spool record (the message) and, while a
// decision is pending, its hold record:
//
//	received → inspected ─┬─→ queued → delivering → delivered | bounced | expired
//	                      └─→ held (sender | approver | review | delay)
//	                            ├─→ released ─(release step)─→ queued → …
//	                            └─→ rejected | cancelled | expired
//	any state but a final one ─(admin)─→ deleted
//
// Every transition is one short bbolt transaction with one audit event:
// hold.Store.Transition checks and writes the decision, and this package's
// hooks move the spool record in the same transaction. Side effects (the
// release's Bcc → link → encrypt rewrites, notices) never run inside it:
// the transaction records them as spool.Steps, and a worker runs each one
// afterwards and removes it in the transaction that commits its result, so
// a crash at any point runs it again from the start and never twice to
// completion.
//
// The pipeline writes only through typed methods, never a store
// transaction: Accept (intake), Decide, Approve, Delete and Retry (people,
// timers), FinishStep and FailStep (the step worker), FinishAttempt and
// Park (the delivery runner); it reads with Get, Hold and WithSteps. Each
// consumer declares the few it uses (intake.Acceptor,
// disposition.StepQueue, delivery.Queue, adminapi.AdminQueue), and any
// store behind them must pass package queuetest.
//
// Illegal transitions return a *StateError (errors.Is ErrIllegal) that
// names the state the message is really in, so the CLI and the console
// can say "already delivered" instead of a store's internal error.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

var (
	// ErrNotFound means no message has that ID.
	ErrNotFound = errors.New("no such message")
	// ErrIllegal means the message is not in a state the action applies to.
	ErrIllegal = errors.New("illegal transition")
)

// StateError reports an action refused because of the message's state.
type StateError struct {
	ID    string
	State string // spool or hold state the message is in
	By    string // who decided, when known
}

func (e *StateError) Error() string {
	switch e.State {
	case string(spool.StateQueued):
		return fmt.Sprintf("message %s is queued for delivery, not held", e.ID)
	case string(spool.StateHeld):
		return fmt.Sprintf("message %s is held", e.ID)
	case string(spool.StateDelivered):
		return fmt.Sprintf("message %s was already delivered", e.ID)
	case string(spool.StateBounced):
		return fmt.Sprintf("message %s has already finished (bounced)", e.ID)
	}
	if e.By != "" {
		return fmt.Sprintf("message %s was already %s by %s", e.ID, e.State, e.By)
	}
	return fmt.Sprintf("message %s was already %s", e.ID, e.State)
}

// Unwrap makes errors.Is(err, ErrIllegal) true.
func (e *StateError) Unwrap() error { return ErrIllegal }

// Options configure a Queue.
type Options struct {
	// OnStep is called after a commit that recorded a step (wake the step
	// worker).
	OnStep func()
	// OnFinished is called after the commit that ended a message other
	// than by delivery (rejected, cancelled, expired or deleted, held or
	// not) with its final record: the closing message log line.
	OnFinished func(rec *spool.Record)
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Reports keeps the analysis reports that come with acceptances; nil
	// refuses an acceptance that carries one.
	Reports ReportStore
	// Learner, if set, learns from each finished delivery attempt.
	Learner Learner
	// Sent, if set, keeps the sent-mail records attempts carry.
	Sent SentStore
}

// Queue is the one owner of a message's durable state.
type Queue struct {
	Spool *spool.Store
	Holds *hold.Store
	opts  Options
}

// Open opens the hold store on the spool's database with this package's
// transition hooks.
func Open(sp *spool.Store, opts Options) (*Queue, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnStep == nil {
		opts.OnStep = func() {}
	}
	if opts.OnFinished == nil {
		opts.OnFinished = func(*spool.Record) {}
	}
	q := &Queue{Spool: sp, opts: opts}
	holds, err := hold.New(sp.DB(), hold.Options{OnRelease: q.onRelease, OnDecided: q.onDecided,
		OnPurge: q.onPurge, Commit: sp.Commit, Now: opts.Now, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	q.Holds = holds
	return q, nil
}

// onRelease moves the message to released and records its release step.
// A release by a person of a message that is gone is refused; the timer
// releasing such a delay just closes the hold.
func (q *Queue) onRelease(tx *bbolt.Tx, rec *hold.Record) error {
	srec, err := spool.GetTx(tx, rec.ID)
	if errors.Is(err, spool.ErrNotFound) {
		if rec.DecidedBy == hold.System {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrNotFound, rec.ID)
	}
	if err != nil {
		return err
	}
	if srec.State != spool.StateHeld {
		return &StateError{ID: rec.ID, State: string(srec.State)}
	}
	srec.State = spool.StateReleased
	srec.Steps = append(srec.Steps, spool.Step{Kind: spool.StepRelease, Mode: string(rec.Mode),
		Actions: slices.Clone(rec.Decision.Actions)})
	tx.OnCommit(q.opts.OnStep)
	return spool.PutTx(tx, srec)
}

// onDecided finishes a message that leaves the hold other than by release
// and records the sender's notice of the outcome.
func (q *Queue) onDecided(tx *bbolt.Tx, rec *hold.Record, _ hold.State) error {
	srec, err := spool.GetTx(tx, rec.ID)
	if errors.Is(err, spool.ErrNotFound) {
		return nil // nothing left to finish or tell
	}
	if err != nil {
		return err
	}
	switch rec.State {
	case hold.StateRejected, hold.StateCancelled, hold.StateExpired, hold.StateDeleted:
		srec.State = spool.State(rec.State)
		srec.FinishedAt = q.opts.Now()
		q.finishedOnCommit(tx, srec)
	}
	if rec.State == hold.StateDeleted {
		id := rec.ID
		tx.OnCommit(func() { q.Spool.RemoveBody(id) })
	}
	if NoticeDue(rec) {
		srec.Steps = append(srec.Steps, spool.Step{Kind: spool.StepNotice, Notice: string(rec.State)})
		tx.OnCommit(q.opts.OnStep)
	}
	return spool.PutTx(tx, srec)
}

// finishedOnCommit reports rec's end once tx has committed (a copy: the
// transaction's record may still change before the commit).
func (q *Queue) finishedOnCommit(tx *bbolt.Tx, rec *spool.Record) {
	r := *rec
	r.Rcpts = slices.Clone(rec.Rcpts)
	tx.OnCommit(func() { q.opts.OnFinished(&r) })
}

// NoticeDue reports whether the sender is told of a decision: of every
// rejection, cancellation and expiry, and of a release by someone else
// than the sender or the delay's timer. A deletion is an admin's cleanup
// and tells nobody.
func NoticeDue(rec *hold.Record) bool {
	if rec.Sender == "" {
		return false
	}
	switch rec.State {
	case hold.StateRejected, hold.StateCancelled, hold.StateExpired:
		return true
	case hold.StateReleased:
		return rec.DecidedBy.Role != string(hold.RoleSender) && rec.DecidedBy.Role != hold.System.Role
	}
	return false
}

// onPurge drops the bytes of a purged hold after the commit; the final
// spool record goes with the spool's own retention.
func (q *Queue) onPurge(tx *bbolt.Tx, rec *hold.Record) error {
	id := rec.ID
	tx.OnCommit(func() { q.Spool.RemoveBody(id) })
	return nil
}

// Decide moves a held message to released, rejected or cancelled as actor
// (mode only for a release).
func (q *Queue) Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error) {
	var opts []hold.TransitionOption
	if mode != "" {
		opts = append(opts, hold.WithMode(mode))
	}
	rec, err := q.Holds.Transition(ctx, id, to, actor, reason, opts...)
	if err != nil {
		return nil, q.explain(id, err)
	}
	return rec, nil
}

// Approve records actor's approval of a held message (actor.Name is the
// approver). Short of the hold's required approvals the message stays
// held; the approval that completes them releases it exactly as Decide
// does. A repeat by the same approver or an approval by someone not named
// returns hold.ErrAlreadyApproved or hold.ErrNotApprover with the record.
func (q *Queue) Approve(ctx context.Context, id string, actor hold.Actor, reason string) (*hold.Record, error) {
	rec, err := q.Holds.Approve(ctx, id, actor, reason)
	if errors.Is(err, hold.ErrAlreadyApproved) || errors.Is(err, hold.ErrNotApprover) {
		return rec, err
	}
	if err != nil {
		return nil, q.explain(id, err)
	}
	return rec, nil
}

// explain turns a hold store error into the message's own state.
func (q *Queue) explain(id string, err error) error {
	var de *hold.DecidedError
	switch {
	case errors.As(err, &de):
		se := &StateError{ID: id, State: string(de.State), By: de.By.Name}
		if srec, e := q.Spool.Get(id); e == nil && srec.State.Final() && srec.State != spool.State(de.State) {
			se.State, se.By = string(srec.State), ""
		}
		return se
	case errors.Is(err, hold.ErrNotFound):
		if srec, e := q.Spool.Get(id); e == nil {
			return &StateError{ID: id, State: string(srec.State)}
		}
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return err
}

// Delete removes a message as an admin: a held one through its hold (so
// its deadline and tokens end with it), any other unfinished one directly;
// either way one transaction, one audit event, and the bytes are removed
// after the commit. A finished message cannot be deleted (it goes with the
// retention purge).
func (q *Queue) Delete(ctx context.Context, id string, actor hold.Actor, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	srec, err := q.Spool.Get(id)
	if errors.Is(err, spool.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	if srec.State == spool.StateHeld {
		_, err := q.Holds.Transition(ctx, id, hold.StateDeleted, actor, reason)
		if !errors.Is(err, hold.ErrNotFound) {
			if err != nil {
				return q.explain(id, err)
			}
			return nil
		}
		// Held without a hold record (parked after a delivery panic).
	}
	err = q.Spool.Update(id, func(tx *bbolt.Tx, rec *spool.Record) error {
		if rec.State.Final() {
			return &StateError{ID: id, State: string(rec.State)}
		}
		from := rec.State
		rec.State, rec.FinishedAt = spool.StateDeleted, q.opts.Now()
		// Nothing is left to rewrite and send; a notice of a decision
		// still goes.
		rec.Steps = slices.DeleteFunc(rec.Steps, func(s spool.Step) bool {
			return s.Kind == spool.StepRelease || s.Kind == spool.StepRewrite
		})
		if _, err := q.Holds.AppendEventTx(tx, hold.Event{MessageID: id, Actor: actor, Action: hold.ActionDelete,
			From: hold.State(from), To: hold.StateDeleted, Reason: reason}); err != nil {
			return err
		}
		tx.OnCommit(func() { q.Spool.RemoveBody(id) })
		q.finishedOnCommit(tx, rec)
		return nil
	})
	if errors.Is(err, spool.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return err
}

// Events is a message's audit history.
func (q *Queue) Events(ctx context.Context, id string) ([]hold.Event, error) {
	return q.Holds.Events(ctx, id)
}

// Verify checks the audit chain and returns the number of events.
func (q *Queue) Verify(ctx context.Context) (uint64, error) { return q.Holds.Verify(ctx) }

// Retry makes a queued message due for delivery now (an admin's retry).
// Any other state is refused with a *StateError.
func (q *Queue) Retry(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.Spool.Update(id, func(_ *bbolt.Tx, rec *spool.Record) error {
		if rec.State != spool.StateQueued {
			return &StateError{ID: id, State: string(rec.State)}
		}
		rec.NextAttempt = q.opts.Now()
		return nil
	})
	if errors.Is(err, spool.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return err
}
