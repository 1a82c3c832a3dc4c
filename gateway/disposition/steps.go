package disposition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/notify"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// StepRunner runs the side effects that transitions record as spool steps
// (see package queue): a release's rewrites followed by its queueing, and
// the sender's notice of a decision. It runs them outside any transaction,
// one message at a time, oldest first, and commits each step's result and
// its removal in one short transaction. A crash before that commit runs the
// step again from the start: derived copies are rewritten, links of the
// earlier attempt are revoked, and its notice files (never committed) are
// removed by the spool's reconciliation on start. So nothing is lost and
// nothing goes out twice.
type StepRunner struct {
	Queue    StepQueue
	Store    *spool.Store // the spool the rewrites and notices write to
	Rewriter *Rewriter
	Notifier *Notifier       // nil: decision notices are dropped
	OnQueued func(id string) // wakes the delivery runner
	Log      *slog.Logger
	Now      func() time.Time

	// Share is the part of the time Run spends on steps (0 < Share ≤ 1;
	// 0 means DefaultShare): after a step it rests in proportion, so a
	// burst of releases — zips written and fsynced — leaves the disk and
	// the CPU to SMTP acceptance between steps. Nobody waits on a step in
	// real time; a client waits on every reply.
	Share float64
	// Wakeup is notified to run steps now (queue.Options.OnStep); nil
	// makes one.
	Wakeup Signal
	// SpareProc adds a P to GOMAXPROCS while the worker has steps to run
	// (see spareProc). Off: each change of GOMAXPROCS stops the world, and
	// acceptance during releases measured better without it (pooled p99
	// 1.32-1.42x idle against 1.45-1.52x with it, three same-run A/Bs);
	// kept for A/B measurements.
	SpareProc bool
	// HoldExpiry is how long a message held by a rewrite step that failed
	// waits for review (0: DefaultHoldExpiry).
	HoldExpiry time.Duration
	// Fault, if set (tests), is asked at each crash point; an error stops
	// the step there as kill -9 would, without any cleanup.
	Fault func(point string) error
	// Counted, if set, counts the actions a deferred rewrite's step ended
	// with (sendguard_policy_actions_total): the decision's when it
	// queued the message, hold_review when it held it instead.
	Counted func(actions []string)

	mu   sync.Mutex
	busy map[string]bool // messages whose steps a run has taken
}

// DefaultShare is StepRunner.Share when unset.
const DefaultShare = 0.5

// StepQueue is what the step worker needs of the message queue
// (*queue.Queue is one): the recorded steps, and one short commit per
// step's result.
type StepQueue interface {
	WithSteps(ctx context.Context, limit int) ([]string, error)
	Get(ctx context.Context, id string) (*spool.Record, error)
	Hold(ctx context.Context, id string) (*hold.Record, error)
	FinishStep(ctx context.Context, id string, k spool.StepKind, res queue.StepResult) error
	FailStep(ctx context.Context, id string, cause error, backoff func(attempts int) time.Duration) (time.Time, error)
}

// Step failures are retried after 5 s, doubling up to 30 min: a disk that
// is full now may not be in a while, and the admin sees LastError.
const (
	stepRetryMin = 5 * time.Second
	stepRetryMax = 30 * time.Minute
	stepBatch    = 100
)

// Signal wakes a worker: Notify never blocks, and notifications made
// while the worker is busy coalesce into one.
type Signal chan struct{}

// NewSignal makes a Signal.
func NewSignal() Signal { return make(Signal, 1) }

// Notify wakes the worker.
func (s Signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// Wake makes Run look for steps now.
func (r *StepRunner) Wake() { r.wakeCh().Notify() }

func (r *StepRunner) wakeCh() Signal {
	if r.Wakeup == nil {
		r.Wakeup = NewSignal()
	}
	return r.Wakeup
}

func (r *StepRunner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Run runs steps until ctx ends: when woken, when a retry is due, and at
// least every 30 s.
func (r *StepRunner) Run(ctx context.Context) {
	lowerPriority(r.Log)
	wake := r.wakeCh()
	for {
		next, _ := r.runOnce(ctx, true)
		wait := 30 * time.Second
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(r.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunOnce runs every due step once and returns when the earliest retry
// that is not yet due will be (zero if none).
func (r *StepRunner) RunOnce(ctx context.Context) (next time.Time, err error) {
	return r.runOnce(ctx, false)
}

// rest pauses after a step that took d, for Share's sake.
func (r *StepRunner) rest(ctx context.Context, d time.Duration) {
	share := r.Share
	if share <= 0 || share > 1 {
		share = DefaultShare
	}
	pause := min(time.Duration(float64(d)*(1-share)/share), 5*time.Second)
	if pause <= 0 {
		return
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// runOnce runs every due step once; as the worker (Run) it rests between
// steps (and takes a spare P while it has steps to run, if SpareProc).
func (r *StepRunner) runOnce(ctx context.Context, worker bool) (next time.Time, err error) {
	ids, err := r.Queue.WithSteps(ctx, stepBatch)
	if err != nil {
		r.Log.Error("read recorded steps", "err", err)
		return time.Time{}, err
	}
	if len(ids) > 0 && worker && r.SpareProc {
		defer spareProc()()
	}
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			return next, ctx.Err()
		}
		if !r.claim(id) {
			continue // a deferred rewrite is running it (RunNow)
		}
		// A message whose steps all ran moves on to its next one here.
		for range 4 {
			t0 := time.Now()
			retry, ran, err := r.runFirst(ctx, id)
			if ran && worker {
				r.rest(ctx, time.Since(t0))
			}
			if err != nil {
				errs = append(errs, err)
			}
			if !retry.IsZero() && (next.IsZero() || retry.Before(next)) {
				next = retry
			}
			if !ran || err != nil {
				break
			}
		}
		r.unclaim(id)
	}
	if len(ids) == stepBatch && len(errs) == 0 {
		next = r.now() // more to do
	}
	return next, errors.Join(errs...)
}

// RunNow runs message id's due steps on the caller's goroutine, at once,
// unless another run has them; a failed step is recorded for the worker
// to retry, and its error returned.
func (r *StepRunner) RunNow(ctx context.Context, id string) error {
	if !r.claim(id) {
		return nil
	}
	defer r.unclaim(id)
	for range 4 {
		_, ran, err := r.runFirst(ctx, id)
		if err != nil || !ran {
			return err
		}
	}
	return nil
}

// claim takes message id's steps for one run: two runs of the same step
// would write the same derived files.
func (r *StepRunner) claim(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[id] {
		return false
	}
	if r.busy == nil {
		r.busy = map[string]bool{}
	}
	r.busy[id] = true
	return true
}

func (r *StepRunner) unclaim(id string) {
	r.mu.Lock()
	delete(r.busy, id)
	r.mu.Unlock()
}

// runFirst runs the first step of message id if it is due.
func (r *StepRunner) runFirst(ctx context.Context, id string) (retry time.Time, ran bool, err error) {
	log := r.Log.With("queue_id", id)
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in a recorded step", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
		// A step cut short by shutdown is not a failure: it runs again
		// from the start after the restart.
		if err != nil && !IsFault(err) && ctx.Err() == nil {
			retry = r.failed(ctx, log, id, err)
		}
	}()
	rec, err := r.Queue.Get(ctx, id)
	if errors.Is(err, queue.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil || len(rec.Steps) == 0 {
		return time.Time{}, false, err
	}
	st := rec.Steps[0]
	if now := r.now(); st.NextAttempt.After(now) {
		return st.NextAttempt, false, nil
	}
	switch st.Kind {
	case spool.StepRelease:
		err = r.release(ctx, log, rec, st)
	case spool.StepNotice:
		err = r.notice(ctx, log, rec, st)
	case spool.StepRewrite:
		err = r.rewrite(ctx, log, rec, st)
	default:
		log.Error("unknown recorded step dropped", "kind", st.Kind)
		err = r.Queue.FinishStep(ctx, id, st.Kind, queue.StepResult{})
	}
	if errors.Is(err, queue.ErrStepStale) {
		return time.Time{}, true, nil
	}
	return time.Time{}, err == nil, err
}

// release applies the release's rewrites and queues the message.
func (r *StepRunner) release(ctx context.Context, log *slog.Logger, rec *spool.Record, st spool.Step) error {
	if rec.State != spool.StateReleased {
		return r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{})
	}
	rw := ReleaseRewrites(st.Actions, hold.ReleaseMode(st.Mode))
	if rw.Link {
		if err := r.Rewriter.DiscardStale(ctx, rec.ID); err != nil {
			return fmt.Errorf("revoke links of an earlier attempt: %w", err)
		}
	}
	ap, err := r.Rewriter.Apply(ctx, messageOf(rec), rw, r.now())
	if err != nil {
		return err
	}
	return r.queueCopies(ctx, log, rec, st, ap, ap.Actions, "release", "released message queued")
}

// messageOf is what the rewrites need of a spooled message.
func messageOf(rec *spool.Record) Message {
	m := Message{ID: rec.ID, Sender: rec.MailFrom, Subject: rec.Subject}
	for _, rc := range rec.Rcpts {
		m.Rcpts = append(m.Rcpts, rc.Addr)
	}
	return m
}

// queueCopies commits what a release's or a deferred rewrite's step made
// with the step's removal: the message goes from released to queued with
// its copies (applied adds to its actions) and their notices. what names
// the step in its crash points; done is the log line.
func (r *StepRunner) queueCopies(ctx context.Context, log *slog.Logger, rec *spool.Record, st spool.Step, ap *Applied,
	applied []string, what, done string) error {
	if err := r.crash(what + " applied"); err != nil {
		return err
	}
	err := r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{
		Release: &queue.Released{BodySuffix: ap.Suffix, RcptBodies: ap.RcptBodies, Applied: applied,
			RequireTLS: ap.RequireTLS},
		Notices: ap.Notices.Queued()})
	if err != nil {
		r.Rewriter.Discard(ap)
		return err
	}
	if err := r.crash(what + " committed"); err != nil {
		return err
	}
	log.Info(done, "applied", ap.Actions)
	r.queued(rec.ID)
	for _, n := range ap.Notices.Queued().Mails {
		r.queued(n.ID)
	}
	return nil
}

// rewrite applies the rewrites an acceptance deferred (see Deferral) and
// queues the message. Rewrites that cannot be done hold it for review, as
// acceptance would have: the security team decides rather than the mail
// leaving unprotected.
func (r *StepRunner) rewrite(ctx context.Context, log *slog.Logger, rec *spool.Record, st spool.Step) error {
	if rec.State != spool.StateReleased {
		return r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{})
	}
	if err := r.Rewriter.DiscardStale(ctx, rec.ID); err != nil {
		return fmt.Errorf("revoke links of an earlier attempt: %w", err)
	}
	rw := AcceptRewrites(st.Actions, rules.PasswordDelivery(st.PasswordDelivery))
	ap, err := r.applyRewrites(ctx, log, messageOf(rec), rw)
	switch {
	case err != nil && (IsFault(err) || ctx.Err() != nil):
		return err
	case err != nil:
		if err := r.holdForReview(ctx, log, rec, st, err); err != nil {
			return err
		}
		r.count([]string{rules.ActionHoldReview})
		return nil
	}
	// The decision's actions were recorded on the message at acceptance.
	if err := r.queueCopies(ctx, log, rec, st, ap, nil, "rewrite", "rewritten message queued"); err != nil {
		return err
	}
	r.count(st.Actions)
	return nil
}

func (r *StepRunner) count(actions []string) {
	if r.Counted != nil {
		r.Counted(actions)
	}
}

// applyRewrites is Apply with a panic turned into an error: a rewrite that
// crashes on a message would otherwise leave it released and retried
// forever, where before its reply it was refused with 451 and the
// client's retries ended in a bounce. Held for review, it is seen.
func (r *StepRunner) applyRewrites(ctx context.Context, log *slog.Logger, m Message, rw Rewrites) (ap *Applied, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in a rewrite", "panic", p, "stack", string(debug.Stack()))
			ap, err = nil, fmt.Errorf("rewrite panic: %v", p)
		}
	}()
	return r.Rewriter.Apply(ctx, m, rw, r.now())
}

// holdForReview holds a message whose deferred rewrite failed with cause,
// with the hold and notices acceptance would have made.
func (r *StepRunner) holdForReview(ctx context.Context, log *slog.Logger, rec *spool.Record, st spool.Step, cause error) error {
	var rep rules.Report
	var d policy.Decision
	if err := json.Unmarshal(rec.Report, &rep); err != nil || rep.Subject == "" {
		rep.Subject = rec.Subject
	}
	if err := json.Unmarshal(rec.Decision, &d); err != nil {
		log.Warn("decision of a held message unreadable", "err", err)
	}
	// A reviewer's release must not retry the rewrite that failed.
	d.Actions = []string{rules.ActionHoldReview}
	env := &gateway.Envelope{QueueID: rec.ID, MailFrom: rec.MailFrom, Rcpts: rec.Rcpts}
	now := r.now()
	expiry := r.HoldExpiry
	if expiry <= 0 {
		expiry = DefaultHoldExpiry
	}
	hr := newHold(env, &rep, rec.Report, d, hold.KindReview, rec.ReceivedAt, now.Add(expiry), r.Notifier)
	notices := &Prepared{}
	if r.Notifier != nil {
		var err error
		if notices, err = r.Notifier.ForHold(hr, &rep, now); err != nil {
			return err
		}
		if err := r.Store.SyncDir(); err != nil {
			notices.Discard(r.Store)
			return err
		}
	}
	err := r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{Notices: notices.Queued(),
		Hold: &queue.HeldStep{Hold: hr, Reason: "rewrite failed: " + cause.Error(), Applied: d.Actions}})
	if err != nil {
		notices.Discard(r.Store)
		return err
	}
	log.Warn("policy action could not be applied; holding for review", "err", cause)
	r.queued(rec.ID)
	for _, n := range notices.Queued().Mails {
		r.queued(n.ID)
	}
	return nil
}

// notice spools the sender's notice of a decision.
func (r *StepRunner) notice(ctx context.Context, log *slog.Logger, rec *spool.Record, st spool.Step) error {
	drop := func() error { return r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{}) }
	if r.Notifier == nil {
		return drop()
	}
	hr, err := r.Queue.Hold(ctx, rec.ID)
	if errors.Is(err, hold.ErrNotFound) {
		return drop()
	}
	if err != nil {
		return err
	}
	hr.State = hold.State(st.Notice)
	p, err := r.Notifier.Decided(hr, r.now())
	if errors.Is(err, notify.ErrInvalid) {
		// An address no notice can be written to (it came as the
		// envelope sender) will not become valid on a retry.
		log.Warn("decision notice cannot be built; none sent", "err", err)
		return drop()
	}
	if err != nil {
		return err
	}
	if err := r.Store.SyncDir(); err != nil {
		p.Discard(r.Store)
		return err
	}
	if err := r.crash("notice written"); err != nil {
		return err
	}
	err = r.Queue.FinishStep(ctx, rec.ID, st.Kind, queue.StepResult{Notices: p.Queued()})
	if err != nil {
		p.Discard(r.Store)
		return err
	}
	for _, n := range p.Mails {
		r.queued(n.ID)
	}
	log.Info("decision notice queued", "outcome", st.Notice)
	return nil
}

// failed records a failed attempt and when to retry.
func (r *StepRunner) failed(ctx context.Context, log *slog.Logger, id string, cause error) time.Time {
	retry, err := r.Queue.FailStep(ctx, id, cause, func(n int) time.Duration {
		return min(stepRetryMin<<min(n-1, 20), stepRetryMax)
	})
	if err != nil {
		return time.Time{}
	}
	log.Error("recorded step failed; will retry", "err", cause, "retry_at", retry.Format(time.RFC3339))
	return retry
}

func (r *StepRunner) queued(id string) {
	if r.OnQueued != nil {
		r.OnQueued(id)
	}
}

// errFault marks a simulated crash.
type errFault struct{ point string }

func (e errFault) Error() string { return "simulated crash at " + e.point }

func IsFault(err error) bool { var f errFault; return errors.As(err, &f) }

func (r *StepRunner) crash(point string) error {
	if r.Fault == nil {
		return nil
	}
	if err := r.Fault(point); err != nil {
		return errFault{point}
	}
	return nil
}
