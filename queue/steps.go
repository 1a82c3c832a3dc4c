package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/spool"
)

// ErrStepStale means a step's result was not committed because the
// message changed while the step ran (deleted, or the step is no longer
// its first): the worker drops the result and looks again.
var ErrStepStale = errors.New("message state changed while its step ran")

// Released are the copies a release's rewrites made: the message is queued
// to deliver them instead of its body.
type Released struct {
	// BodySuffix names the derived copy (ID.suffix) delivered to every
	// recipient without a copy of their own.
	BodySuffix string
	// RcptBodies gives recipients their own copy (suffix by address).
	RcptBodies map[string]string
	// Applied are the rewrites really done.
	Applied []string
	// RequireTLS marks recipients whose domain's protection profile
	// requires TLS to the next hop (by address, as written or lowercased).
	RequireTLS map[string]bool
}

// StepResult is what a finished step commits with its removal.
type StepResult struct {
	// Release, for a release step, moves the message from released to
	// queued with these copies; nil drops the step without queueing (the
	// message left released meanwhile).
	Release *Released
	// Hold, for a rewrite step that could not be done, moves the message
	// from released to held in this hold instead of queueing it.
	Hold    *HeldStep
	Notices Notices
}

// HeldStep is a message held by its step: the hold (created with its
// audit event), the reason that event gives, and the actions the message
// record says were taken.
type HeldStep struct {
	Hold    *hold.Record
	Reason  string
	Applied []string
}

// WithSteps lists up to limit messages with recorded steps, oldest first.
func (q *Queue) WithSteps(ctx context.Context, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return q.Spool.WithSteps(limit)
}

// Get reads a message's record.
func (q *Queue) Get(ctx context.Context, id string) (*spool.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := q.Spool.Get(id)
	if errors.Is(err, spool.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return rec, err
}

// Hold reads a message's hold record (hold.ErrNotFound when it has none).
func (q *Queue) Hold(ctx context.Context, id string) (*hold.Record, error) {
	return q.Holds.Get(ctx, id)
}

// FinishStep removes the message's first step, which must be of kind k,
// and commits its result in the same transaction. It returns ErrStepStale,
// writing nothing, when that step is no longer first or the message of a
// release or hold result is no longer released.
func (q *Queue) FinishStep(ctx context.Context, id string, k spool.StepKind, res StepResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.Spool.Update(id, func(tx *bbolt.Tx, cur *spool.Record) error {
		if len(cur.Steps) == 0 || cur.Steps[0].Kind != k {
			return ErrStepStale
		}
		cur.Steps = cur.Steps[1:]
		if r := res.Release; r != nil {
			if cur.State != spool.StateReleased {
				return ErrStepStale
			}
			cur.BodySuffix = r.BodySuffix
			cur.SetRcptBodies(r.RcptBodies)
			cur.Applied = append(cur.Applied, r.Applied...)
			for i := range cur.Rcpts {
				if a := cur.Rcpts[i].Addr; r.RequireTLS[a] || r.RequireTLS[strings.ToLower(a)] {
					cur.Rcpts[i].RequireTLS = true
				}
			}
			cur.State, cur.NextAttempt = spool.StateQueued, q.opts.Now()
		}
		if h := res.Hold; h != nil {
			if res.Release != nil || cur.State != spool.StateReleased {
				return ErrStepStale
			}
			if err := q.Holds.CreateTx(tx, h.Hold, hold.System, h.Reason); err != nil {
				return err
			}
			cur.State, cur.Applied = spool.StateHeld, h.Applied
			// The report for policy replay says what was done, as when
			// a rewrite fails before the reply.
			if q.opts.Reports != nil {
				if err := q.opts.Reports.AmendActionsTx(tx, cur.ReceivedAt, cur.ID, h.Applied); err != nil {
					return err
				}
			}
		}
		return q.putNotices(tx, res.Notices)
	})
	if errors.Is(err, spool.ErrNotFound) {
		return ErrStepStale
	}
	return err
}

// FailStep records a failed attempt of the message's first step and when
// to retry it: backoff(attempts so far) from now.
func (q *Queue) FailStep(ctx context.Context, id string, cause error, backoff func(attempts int) time.Duration) (time.Time, error) {
	var retry time.Time
	err := q.Spool.Update(id, func(_ *bbolt.Tx, cur *spool.Record) error {
		if len(cur.Steps) == 0 {
			return ErrStepStale
		}
		st := &cur.Steps[0]
		st.Attempts++
		st.LastError = cause.Error()
		retry = q.opts.Now().Add(backoff(st.Attempts))
		st.NextAttempt = retry
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return retry, nil
}
