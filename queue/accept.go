package queue

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/spool"
)

// Notices are notice mails already written to the spool (their files
// synced) and the link tokens they carry. They become real only with the
// commit that records them; until then the spool's reconciliation on start
// removes their files.
type Notices struct {
	Mails  []*spool.Record
	Tokens []hold.Token
}

// Add appends o's notices.
func (n *Notices) Add(o Notices) {
	n.Mails = append(n.Mails, o.Mails...)
	n.Tokens = append(n.Tokens, o.Tokens...)
}

// Acceptance is everything that commits with an accepted message, all or
// nothing: received → inspected → queued, → held when Hold is set, or →
// released with a rewrite step when Rewrite is set.
type Acceptance struct {
	// Message is the record; its body is already committed in the spool.
	Message *spool.Record
	// Hold keeps the message out of the delivery queue; HoldReason is the
	// audit event's reason.
	Hold       *hold.Record
	HoldReason string
	// Rewrite, when set and Hold is not, accepts the message released
	// with this step (spool.StepRewrite) instead of queued: its rewrites
	// run after the reply, and the step queues it or holds it.
	Rewrite *spool.Step
	Notices Notices
	// Report is the analysis kept for policy replay; nil keeps none.
	Report *reports.Report
	// Audit are events of the acceptance besides the hold's (a shadow
	// rule's match), appended in its transaction.
	Audit []hold.Event
}

// ReportStore keeps analysis reports in the acceptance transaction, so a
// report exists exactly when its message was accepted (*reports.Bolt is
// one).
type ReportStore interface {
	PutTx(tx *bbolt.Tx, r *reports.Report) error
	// AmendActionsTx corrects the live actions of a stored report (a
	// deferred rewrite that held its message instead).
	AmendActionsTx(tx *bbolt.Tx, accepted time.Time, qid string, actions []string) error
}

// Accept commits an accepted message with its hold, notices and report in
// one transaction, after fsyncing the spool directory. On error nothing is
// committed and the caller removes the files.
func (q *Queue) Accept(ctx context.Context, a Acceptance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := a.Message
	rec.State = spool.StateQueued
	switch {
	case a.Hold != nil:
		rec.State = spool.StateHeld
	case a.Rewrite != nil:
		rec.State = spool.StateReleased
		rec.Steps = append(rec.Steps, *a.Rewrite)
	}
	accept := q.Spool.Accept
	if wroteNoFile(a) {
		accept = q.Spool.AcceptInline
	}
	return accept(rec, func(tx *bbolt.Tx) error {
		if a.Report != nil {
			if q.opts.Reports == nil {
				return fmt.Errorf("store report: no report store")
			}
			if err := q.opts.Reports.PutTx(tx, a.Report); err != nil {
				return fmt.Errorf("store report: %w", err)
			}
		}
		if a.Hold != nil {
			if err := q.Holds.CreateTx(tx, a.Hold, hold.System, a.HoldReason); err != nil {
				return err
			}
		}
		for _, e := range a.Audit {
			if _, err := q.Holds.AppendEventTx(tx, e); err != nil {
				return fmt.Errorf("audit %s: %w", e.Action, err)
			}
		}
		return q.putNotices(tx, a.Notices)
	})
}

// wroteNoFile reports whether an acceptance has nothing in spool files:
// its body inline, no rewritten copy other than an inline one (a small
// encrypted copy), no notice file. Its commit then needs no fsync of the
// spool directory.
func wroteNoFile(a Acceptance) bool {
	rec := a.Message
	if rec.Inline == nil || (rec.BodySuffix != "" && rec.BodySuffix != rec.InlineSuffix) {
		return false
	}
	for _, rc := range rec.Rcpts {
		if rc.Body != "" {
			return false
		}
	}
	for _, n := range a.Notices.Mails {
		if n.Inline == nil {
			return false
		}
	}
	return true
}

func (q *Queue) putNotices(tx *bbolt.Tx, n Notices) error {
	for _, t := range n.Tokens {
		if err := q.Holds.AddTokenTx(tx, t); err != nil {
			return err
		}
	}
	for _, r := range n.Mails {
		if err := spool.PutTx(tx, r); err != nil {
			return err
		}
	}
	return nil
}
