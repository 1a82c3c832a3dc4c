package hold

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// TransitionOption adjusts one transition.
type TransitionOption func(*transitionOpts)

type transitionOpts struct {
	mode ReleaseMode
}

// WithMode sets how a released message goes out; only valid with
// StateReleased. Without it a release is ModeAsIs.
func WithMode(m ReleaseMode) TransitionOption {
	return func(o *transitionOpts) { o.mode = m }
}

// errRollback ends an update transaction that must not commit while the
// caller still returns its own result.
var errRollback = errors.New("rollback")

// Transition moves a held record to another state in one transaction:
// state check, new state, indexes, audit event and hooks. It returns the
// record as it is afterwards, without its report. When the record was already decided, or its
// deadline had passed (which decides it first), the error is a
// *DecidedError and the record shows the outcome.
func (s *Store) Transition(ctx context.Context, id string, to State, actor Actor, reason string, opts ...TransitionOption) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := transitionOpts{}
	for _, f := range opts {
		f(&o)
	}
	var rec *Record
	var result error
	err := s.opts.Commit(func(tx *bbolt.Tx) error {
		var wrote bool
		var err error
		rec, wrote, err = s.transitionTx(tx, id, to, actor, reason, o, s.now())
		return commitIf(wrote, err, &result)
	})
	return finish(rec, result, err)
}

// TransitionWithToken validates a link token for role, applies the
// transition to the token's message and marks the token used, all in one
// transaction. A failed transition leaves the token unused.
func (s *Store) TransitionWithToken(ctx context.Context, hash [32]byte, role Role, to State, actor Actor, reason string, opts ...TransitionOption) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := transitionOpts{}
	for _, f := range opts {
		f(&o)
	}
	var rec *Record
	var result error
	err := s.opts.Commit(func(tx *bbolt.Tx) error {
		now := s.now()
		tok, err := checkToken(tx, hash, role, now)
		if err != nil {
			return err
		}
		a := tokenActor(tok, actor)
		var wrote bool
		rec, wrote, err = s.transitionTx(tx, tok.MessageID, to, a, reason, o, now)
		if err == nil {
			err = markTokenUsed(tx, tok, now, a)
		}
		return commitIf(wrote, err, &result)
	})
	return finish(rec, result, err)
}

// commitIf lets a transaction commit what it wrote while its caller still
// reports a DecidedError (a deadline applied on the way), and rolls back
// when nothing was written.
func commitIf(wrote bool, err error, result *error) error {
	var de *DecidedError
	if errors.As(err, &de) {
		*result = err
		if wrote {
			return nil
		}
		return errRollback
	}
	return err
}

func finish(rec *Record, result, err error) (*Record, error) {
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	return rec, result
}

// transitionTx does the work of Transition. wrote reports whether it
// changed the DB, even when it returns a DecidedError.
func (s *Store) transitionTx(tx *bbolt.Tx, id string, to State, actor Actor, reason string, o transitionOpts, now time.Time) (rec *Record, wrote bool, err error) {
	if !to.valid() {
		return nil, false, fmt.Errorf("%w: unknown state %q", ErrIllegalTransition, to)
	}
	if o.mode != "" && (to != StateReleased || !o.mode.valid()) {
		return nil, false, fmt.Errorf("%w: release mode %q with state %s", ErrInvalid, o.mode, to)
	}
	r, err := getRecord(tx, id)
	if err != nil {
		return nil, false, err
	}
	if r.State.Final() {
		return r, false, decidedError(r)
	}
	if out := deadlineOutcome(r.Kind); !r.Deadline.IsZero() && !now.Before(r.Deadline) && to != out {
		if err := s.apply(tx, r, out, System, "deadline passed", ModeAsIs, now); err != nil {
			return nil, false, err
		}
		return r, true, decidedError(r)
	}
	if !legal(r.Kind, r.State, to) {
		return r, false, fmt.Errorf("%w: %s (%s) to %s", ErrIllegalTransition, r.State, r.Kind, to)
	}
	mode := o.mode
	if to == StateReleased && mode == "" {
		mode = ModeAsIs
	}
	if err := s.apply(tx, r, to, actor, reason, mode, now); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// apply writes a legal transition of r (in state held) and runs the hooks.
func (s *Store) apply(tx *bbolt.Tx, r *Record, to State, actor Actor, reason string, mode ReleaseMode, now time.Time) error {
	from := r.State
	idx := tx.Bucket(bucketIndex)
	suffix := timeID(r.CreatedAt, r.ID)
	if err := idx.Delete(concat(postingPrefix(fieldState, string(from)), suffix)); err != nil {
		return fmt.Errorf("delete state index: %w", err)
	}
	if err := addCount(tx, r, -1); err != nil {
		return err
	}
	if !r.Deadline.IsZero() {
		if err := tx.Bucket(bucketDeadlines).Delete(timeID(r.Deadline, r.ID)); err != nil {
			return fmt.Errorf("delete deadline: %w", err)
		}
	}

	r.State, r.DecidedAt, r.DecidedBy, r.Reason = to, now, actor, reason
	r.Mode = ""
	if to == StateReleased {
		r.Mode = mode
	}
	if err := putRecord(tx, r); err != nil {
		return err
	}
	if err := idx.Put(concat(postingPrefix(fieldState, string(to)), suffix), nil); err != nil {
		return fmt.Errorf("put state index: %w", err)
	}
	if err := addCount(tx, r, 1); err != nil {
		return err
	}
	if to.purgeable() {
		if err := tx.Bucket(bucketPurge).Put(timeID(now, r.ID), nil); err != nil {
			return fmt.Errorf("put purge index: %w", err)
		}
	}
	if _, err := s.appendEventTx(tx, &Event{
		MessageID: r.ID, Actor: actor, Action: actionFor(to),
		From: from, To: to, Mode: r.Mode, Reason: reason,
	}); err != nil {
		return err
	}
	if to == StateReleased && s.opts.OnRelease != nil {
		if err := s.opts.OnRelease(tx, r.clone()); err != nil {
			return fmt.Errorf("release hook for %s: %w", r.ID, err)
		}
	}
	if s.opts.OnDecided != nil {
		if err := s.opts.OnDecided(tx, r.clone(), from); err != nil {
			return fmt.Errorf("decided hook for %s: %w", r.ID, err)
		}
	}
	return nil
}
