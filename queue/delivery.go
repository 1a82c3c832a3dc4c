package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"
)

// ErrStale means an attempt's result was not committed because the
// message left the queued state while it ran (deleted by an admin).
var ErrStale = errors.New("message state changed during delivery")

// Learner records what a finished attempt teaches, in the transaction that
// commits it (the domains mail was delivered to; *delivery.History is
// one).
type Learner interface {
	LearnTx(tx *bbolt.Tx, rec *spool.Record, now time.Time) error
}

// Attempt is the result of one delivery attempt: the message with each
// recipient's outcome, its state (queued for a retry, or delivered,
// bounced, expired) and next attempt; and the DSN to send about it, if
// any (its file written and synced).
type Attempt struct {
	Message *spool.Record
	DSN     *spool.Record
	// Sent is the sent-mail record of a mail that reached a recipient
	// (sent.retention), kept with the result that delivered it.
	Sent *sent.Record
}

// SentStore keeps sent-mail records in the transaction of the attempt
// that delivered the mail (*sent.Store is one).
type SentStore interface {
	PutTx(tx *bbolt.Tx, r *sent.Record) error
}

// FinishAttempt commits an attempt's result, clears the next hop's
// acceptance marks of the message, and queues the DSN, in one
// transaction. It returns ErrStale, writing nothing, if the message is no
// longer queued.
func (q *Queue) FinishAttempt(ctx context.Context, a Attempt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := a.Message
	// The stored record is replaced whole: only its state is read.
	check := func(st spool.State) error {
		if st != spool.StateQueued {
			return ErrStale
		}
		return nil
	}
	err := q.Spool.Replace(rec, check, func(tx *bbolt.Tx) error {
		if a.Sent != nil && q.opts.Sent != nil {
			// A record that cannot be written must not undo the
			// delivery's result (the mail would go out again).
			if err := q.opts.Sent.PutTx(tx, a.Sent); err != nil {
				q.log().Error("record sent mail", "queue_id", rec.ID, "err", err)
			}
		}
		if err := spool.ClearDeliveredTx(tx, rec.ID); err != nil {
			return err
		}
		if q.opts.Learner != nil {
			if err := q.opts.Learner.LearnTx(tx, rec, q.opts.Now()); err != nil {
				return err
			}
		}
		if a.DSN != nil {
			return spool.PutTx(tx, a.DSN)
		}
		return nil
	})
	if errors.Is(err, spool.ErrNotFound) {
		return ErrStale
	}
	return err
}

func (q *Queue) log() *slog.Logger {
	if q.opts.Logger != nil {
		return q.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Park takes a queued message out of delivery as held, without a hold
// record, when delivering it crashed: an admin looks at it (show, delete)
// instead of it being retried forever.
func (q *Queue) Park(ctx context.Context, id, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.Spool.Update(id, func(_ *bbolt.Tx, rec *spool.Record) error {
		if rec.State != spool.StateQueued {
			return &StateError{ID: id, State: string(rec.State)}
		}
		rec.State = spool.StateHeld
		rec.LastError = reason
		return nil
	})
	if errors.Is(err, spool.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return err
}
