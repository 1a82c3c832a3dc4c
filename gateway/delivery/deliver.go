package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/gateway/dsn"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/sent"
	"github.com/sendguard/sendguard/spool"
)

// Transport makes one delivery attempt to the next hop.
type Transport interface {
	Deliver(ctx context.Context, d *Delivery) []Result
}

// Delivery is one attempt: the envelope for the recipients still pending and
// a way to stream the body (called once per connection attempt).
type Delivery struct {
	QueueID  string
	MailFrom string
	Rcpts    []spool.Rcpt
	Size     int64
	UTF8     bool
	EightBit bool
	DSNRet   string
	DSNEnvID string
	// Own is set for sendguard's own mail (notices, DSNs), not a
	// message it relays.
	Own bool
	// RequireTLS: the recipients' domains require TLS to the next hop.
	RequireTLS bool
	Body       func() (io.ReadCloser, error)
	// Accepted, if set, is called by the transport as soon as the next
	// hop has accepted recipients (its 250 after the data), before it does
	// anything else; once it returns, a crash of the process does not send
	// them again. Calls may be concurrent.
	Accepted func([]Result)
}

// ByKind sends sendguard's own mail (notices and DSNs, addressed to
// people inside the company) through Own, when set, and relayed mail
// through Mail.
type ByKind struct {
	Mail, Own Transport
}

// Deliver implements Transport.
func (b ByKind) Deliver(ctx context.Context, d *Delivery) []Result {
	if d.Own && b.Own != nil {
		return b.Own.Deliver(ctx, d)
	}
	return b.Mail.Deliver(ctx, d)
}

// Result is one recipient's outcome of an attempt.
type Result struct {
	Rcpt      string
	Delivered bool
	Temporary bool
	Code      int
	Enhanced  string
	Message   string
	Remote    string
	FromPeer  bool
}

// DSNBuilder renders a delivery status notification for recipients of
// rec: failed ones (status failed) and delayed ones (still pending, with
// the last temporary error); body reads the original message.
type DSNBuilder func(rec *spool.Record, failed []spool.Rcpt, body io.Reader) ([]byte, error)

// Runner delivers queued messages: it picks due records from the spool,
// hands them to the Transport, records each recipient's result, schedules
// retries and generates DSNs.
//
// Retry schedule (RFC 5321 §4.5.4.1 asks for at least 30 minutes between
// tries after the first, and for giving up after 4–5 days): by default 1m,
// 5m, 15m, 30m, 1h, then hourly until delivery.queue_lifetime (5 days),
// configurable as delivery.retry.
type Runner struct {
	store   *spool.Store
	queue   Queue
	tr      Transport
	dsn     DSNBuilder
	cfg     *config.Config
	log     *slog.Logger
	metrics *gateway.Metrics
	now     func() time.Time

	wake     chan struct{}
	mu       sync.Mutex
	inflight map[string]bool

	attemptCtx context.Context // ends only on Abort: shutdown lets attempts finish
	abort      context.CancelFunc

	sent   *sent.Store
	onSent func(*sent.Record)
}

// Queue is what the runner needs of the message queue (*queue.Queue is
// one): each attempt's result commits through it.
type Queue interface {
	FinishAttempt(ctx context.Context, a queue.Attempt) error
	Park(ctx context.Context, id, reason string) error
}

// Options are the runner's dependencies.
type Options struct {
	Config    *config.Config
	Store     *spool.Store // due messages and their bodies
	Queue     Queue        // commits each attempt's result
	Transport Transport
	DSN       DSNBuilder // nil: no DSNs
	Log       *slog.Logger
	Metrics   *gateway.Metrics
	// Sent, if set, records every delivered mail (sent.retention) in the
	// transaction that records the attempt that delivered it.
	Sent *sent.Store
	// OnSent, if set, runs after such a record commits (the sender's
	// receipt with its report link).
	OnSent func(*sent.Record)
}

// New builds the delivery runner.
func New(o Options) *Runner {
	actx, abort := context.WithCancel(context.Background())
	return &Runner{store: o.Store, queue: o.Queue, tr: o.Transport, dsn: o.DSN, cfg: o.Config, log: o.Log.With("component", "delivery"),
		metrics: o.Metrics, now: time.Now, wake: make(chan struct{}, 1), inflight: map[string]bool{},
		attemptCtx: actx, abort: abort, sent: o.Sent, onSent: o.OnSent}
}

// NewRunner builds a runner that records no sent mail: it reads due
// messages and their bodies from store and commits results through q.
func NewRunner(cfg *config.Config, store *spool.Store, q Queue, tr Transport, dsn DSNBuilder, log *slog.Logger, m *gateway.Metrics) *Runner {
	return New(Options{Config: cfg, Store: store, Queue: q, Transport: tr, DSN: dsn, Log: log, Metrics: m})
}

// Abort cancels delivery attempts in progress (after the shutdown grace);
// their recipients stay pending and are retried after restart.
func (r *Runner) Abort() { r.abort() }

// Wake makes the runner look for due messages now.
func (r *Runner) Wake(string) {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then lets attempts in progress finish
// (Abort cuts them short).
func (r *Runner) Run(ctx context.Context) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range r.cfg.Delivery.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				r.Attempt(r.attemptCtx, id)
				r.mu.Lock()
				delete(r.inflight, id)
				r.mu.Unlock()
				r.Wake("")
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()
	const batch = 256
	for {
		ids, next, err := r.store.Due(r.now(), batch)
		if err != nil {
			r.log.Error("read due messages", "err", err)
		}
		dispatched := 0
		for _, id := range ids {
			r.mu.Lock()
			busy := r.inflight[id]
			if !busy {
				r.inflight[id] = true
			}
			r.mu.Unlock()
			if busy {
				continue
			}
			select {
			case jobs <- id:
				dispatched++
			case <-ctx.Done():
				return
			}
		}
		wait := time.Second
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(r.now()), time.Millisecond))
		}
		if dispatched > 0 && len(ids) == batch {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Attempt makes one delivery attempt for a queued message now.
func (r *Runner) Attempt(ctx context.Context, id string) {
	log := r.log.With("queue_id", id)
	defer func() {
		if p := recover(); p != nil {
			// A message that crashes delivery is parked (held) instead of
			// being retried forever.
			log.Error("panic in delivery; message parked as held", "panic", p, "stack", string(debug.Stack()))
			if err := r.queue.Park(context.WithoutCancel(ctx), id, "internal error during delivery"); err != nil {
				log.Error("park message", "err", err)
			}
		}
	}()
	rec, err := r.store.Get(id)
	if err != nil || rec.State != spool.StateQueued {
		return
	}
	now := r.now()
	// Recipients the next hop accepted before a crash, whose attempt never
	// committed its result, count as delivered and are not sent again.
	results, err := r.accepted(id)
	if err != nil {
		log.Error("read delivery marks", "err", err)
		return
	}
	done := map[string]bool{}
	for _, res := range results {
		done[res.Rcpt] = true
	}
	var pending []spool.Rcpt
	for _, rc := range rec.Rcpts {
		if rc.Status == spool.RcptPending && !done[rc.Addr] {
			pending = append(pending, rc)
		}
	}
	if len(pending) > 0 && now.Before(rec.Expires) {
		tr := r.tr
		// Recipients with their own copy, or whose domain requires TLS,
		// are delivered in their own transaction; everyone else shares
		// the message's body.
		type groupKey struct {
			body string
			tls  bool
		}
		groups := map[groupKey][]spool.Rcpt{}
		var order []groupKey
		for _, rc := range pending {
			k := groupKey{rc.Body, rc.RequireTLS}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], rc)
		}
		for _, k := range order {
			view := &spool.Record{ID: id, BodySuffix: rec.BodySuffix, InlineBody: rec.InlineBody, InlineSuffix: rec.InlineSuffix}
			if k.body != "" {
				view.BodySuffix = k.body
			}
			d := &Delivery{QueueID: id, MailFrom: rec.MailFrom, Rcpts: groups[k], Size: rec.Size, UTF8: rec.UTF8,
				EightBit: rec.EightBit, DSNRet: rec.DSNRet, DSNEnvID: rec.DSNEnvID, Own: rec.Kind != spool.KindMail,
				RequireTLS: k.tls,
				Body:       func() (io.ReadCloser, error) { return r.store.OpenDeliverable(view) },
				Accepted:   func(rs []Result) { r.markAccepted(log, id, rs) }}
			results = append(results, tr.Deliver(ctx, d)...)
		}
		if ctx.Err() != nil {
			// Shutting down: the attempt's outcome is unknown for anyone
			// not confirmed; they stay pending and are retried on start.
			results = keepDelivered(results)
		}
	}
	now = r.now()
	out := applyResults(rec, results, now, r.cfg.Delivery.Retry)
	r.record(ctx, log, rec, out, now)
}

// markAccepted records the next hop's 250 for rs ahead of everything else
// (spool.Store.MarkDelivered). If that fails the attempt's own commit still
// records them; only the crash window is wider, as before the marks.
func (r *Runner) markAccepted(log *slog.Logger, id string, rs []Result) {
	marks := make([]spool.Mark, 0, len(rs))
	for _, res := range rs {
		if res.Delivered {
			marks = append(marks, spool.Mark{Rcpt: res.Rcpt, Code: res.Code, Enhanced: res.Enhanced,
				Message: res.Message, Remote: res.Remote, At: r.now()})
		}
	}
	if err := r.store.MarkDelivered(id, marks); err != nil {
		log.Error("record delivery mark", "err", err)
	}
}

// accepted turns the delivery marks of message id into results.
func (r *Runner) accepted(id string) ([]Result, error) {
	marks, err := r.store.Delivered(id)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(marks))
	for _, m := range marks {
		out = append(out, Result{Rcpt: m.Rcpt, Delivered: true, Code: m.Code, Enhanced: m.Enhanced,
			Message: m.Message, Remote: m.Remote, FromPeer: true})
	}
	return out, nil
}

func keepDelivered(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Delivered {
			out = append(out, r)
		}
	}
	return out
}

// outcome is what one attempt changed.
type outcome struct {
	delivered, deferred int
	failed              []spool.Rcpt // newly failed (permanent or expired)
	delayed             []spool.Rcpt // still pending, the sender to be warned
	expired             bool
}

// delayWarning is when a sender whose mail still waits is told once that
// delivery is delayed (RFC 3464 action "delayed"), as sendmail does after
// its default queuewarn of 4 hours. Recipients who asked for no delay
// notices (NOTIFY without DELAY, RFC 3461 §4.1) are left out.
const delayWarning = 4 * time.Hour

// wantsDelay reports whether a recipient's NOTIFY allows a delay notice;
// without NOTIFY it is the MTA's choice (RFC 3461 §4.1), and we send one.
func wantsDelay(notify string) bool {
	if notify == "" {
		return true
	}
	return strings.Contains(strings.ToUpper(notify), "DELAY")
}

// applyResults updates rec in memory from an attempt's results.
func applyResults(rec *spool.Record, results []Result, now time.Time, retry []time.Duration) outcome {
	var o outcome
	byAddr := map[string]Result{}
	for _, res := range results {
		byAddr[res.Rcpt] = res
	}
	if len(results) > 0 {
		rec.Attempts++
	}
	for i := range rec.Rcpts {
		rc := &rec.Rcpts[i]
		res, ok := byAddr[rc.Addr]
		if rc.Status != spool.RcptPending || !ok {
			continue
		}
		rc.Code, rc.Enhanced, rc.Message, rc.Remote, rc.FromPeer, rc.Updated = res.Code, res.Enhanced, res.Message, res.Remote, res.FromPeer, now
		switch {
		case res.Delivered:
			rc.Status = spool.RcptDelivered
			o.delivered++
		case !res.Temporary:
			rc.Status = spool.RcptFailed
			o.failed = append(o.failed, *rc)
		default:
			o.deferred++
			rec.LastError = fmt.Sprintf("%d %s %s", res.Code, res.Enhanced, res.Message)
		}
	}
	if len(rec.Pending()) > 0 {
		if !now.Before(rec.Expires) {
			// Queue lifetime over: RFC 3463 4.4.7, delivery time expired.
			o.expired = true
			for i := range rec.Rcpts {
				rc := &rec.Rcpts[i]
				if rc.Status != spool.RcptPending {
					continue
				}
				rc.Status = spool.RcptFailed
				rc.Enhanced = "4.4.7"
				if rc.Message == "" {
					rc.Message = "Delivery time expired"
				} else {
					rc.Message = "Delivery time expired; last error: " + rc.Message
				}
				rc.Updated = now
				o.failed = append(o.failed, *rc)
			}
		} else {
			step := retry[min(max(rec.Attempts-1, 0), len(retry)-1)]
			rec.NextAttempt = now.Add(step)
			if !rec.DelayWarned && rec.Kind == spool.KindMail && now.Sub(rec.ReceivedAt) >= delayWarning {
				rec.DelayWarned = true
				for _, rc := range rec.Rcpts {
					if rc.Status == spool.RcptPending && wantsDelay(rc.Notify) {
						o.delayed = append(o.delayed, rc)
					}
				}
			}
			return o
		}
	}
	rec.FinishedAt = now
	rec.State = spool.StateDelivered
	for _, rc := range rec.Rcpts {
		if rc.Status == spool.RcptFailed {
			rec.State = spool.StateBounced
		}
	}
	if o.expired {
		rec.State = spool.StateExpired
	}
	return o
}

// record commits an attempt's outcome, with a DSN for newly failed
// recipients in the same transaction.
func (r *Runner) record(ctx context.Context, log *slog.Logger, rec *spool.Record, o outcome, now time.Time) {
	var dsnRec *spool.Record
	report := append(append([]spool.Rcpt(nil), o.failed...), o.delayed...)
	if len(report) > 0 && r.dsn != nil && dsn.ShouldBounce(rec.MailFrom) && rec.Kind != spool.KindDSN {
		var err error
		dsnRec, err = r.spoolDSN(rec, report, now)
		if err != nil {
			// The failure is still recorded; the sender is not told. Log
			// loudly: this is an operational problem (disk).
			log.Error("generate DSN", "err", err)
		}
	}
	sentRec := r.prepareSent(log, rec, now)
	// An attempt that ran records its result even when shutdown began
	// meanwhile.
	err := r.queue.FinishAttempt(context.WithoutCancel(ctx), queue.Attempt{Message: rec, DSN: dsnRec, Sent: sentRec})
	if err != nil {
		if dsnRec != nil {
			r.store.RemoveBody(dsnRec.ID)
		}
		if !errors.Is(err, queue.ErrStale) {
			log.Error("record delivery result", "err", err)
		}
		return
	}
	if sentRec != nil && r.onSent != nil {
		r.onSent(sentRec)
	}
	r.metrics.Delivered.Add(float64(o.delivered))
	r.metrics.Deferred.Add(float64(o.deferred))
	r.metrics.Bounced.Add(float64(len(o.failed)))
	for _, rc := range o.failed {
		log.Warn("recipient failed", "rcpt", rc.Addr, "code", rc.Code, "enhanced", rc.Enhanced, "reply", rc.Message)
	}
	if dsnRec != nil {
		r.metrics.DsnSent.Inc()
		log.Info("DSN queued", "dsn_id", dsnRec.ID, "to", dsnRec.Rcpts[0].Addr)
		r.Wake(dsnRec.ID)
	}
	if rec.State.Final() {
		r.store.RemoveFinished(rec)
		if rec.State == spool.StateDelivered {
			r.metrics.DeliveryLat.Observe(now.Sub(rec.ReceivedAt).Seconds())
		}
		gateway.LogMessage(log, gateway.RecordFacts(rec, now))
	} else if o.deferred > 0 {
		log.Info("delivery deferred", "pending", len(rec.Pending()), "next_attempt", rec.NextAttempt.Format(time.RFC3339), "last_error", rec.LastError)
	} else if o.delivered > 0 {
		log.Info("recipients delivered", "count", o.delivered)
	}
}

// prepareSent builds the sent record of a mail that has reached at least
// one recipient, hashing the attachments of the original body (read
// before the transaction; the body goes only when the message is final).
func (r *Runner) prepareSent(log *slog.Logger, rec *spool.Record, now time.Time) *sent.Record {
	if r.sent == nil || !sent.Wanted(rec) {
		return nil
	}
	f, err := r.store.OpenBody(rec.ID)
	if err != nil {
		log.Warn("sent record without attachment hashes", "err", err)
		return sent.Prepare(rec, now, nil)
	}
	defer f.Close()
	s := sent.Prepare(rec, now, f)
	if r.sent.KeepsBodies() {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			err = r.sent.SaveBody(rec.ID, f)
		}
		if err != nil {
			log.Error("keep sent body", "err", err)
		} else {
			s.BodyKept = true
		}
	}
	return s
}

// dsnSubject names a DSN in the queue: a bounce, or only a delay warning.
func dsnSubject(rcpts []spool.Rcpt) string {
	for _, rc := range rcpts {
		if rc.Status != spool.RcptPending {
			return "Undelivered Mail Returned to Sender"
		}
	}
	return "Delayed Mail (still being retried)"
}

// spoolDSN writes a DSN as a new message from the null sender to the
// original sender and returns its record (not yet committed).
func (r *Runner) spoolDSN(rec *spool.Record, failed []spool.Rcpt, now time.Time) (*spool.Record, error) {
	body, err := r.store.OpenBody(rec.ID)
	if err != nil {
		return nil, fmt.Errorf("open original: %w", err)
	}
	defer body.Close()
	data, err := r.dsn(rec, failed, body)
	if err != nil {
		return nil, err
	}
	id := spool.NewID()
	bw, err := r.store.Create(id)
	if err != nil {
		return nil, err
	}
	if _, err := bw.Write(data); err != nil {
		bw.Abort()
		return nil, err
	}
	sum, err := bw.Commit()
	if err != nil {
		return nil, err
	}
	if err := r.store.SyncDir(); err != nil {
		r.store.RemoveBody(id)
		return nil, err
	}
	return &spool.Record{
		ID: id, Kind: spool.KindDSN, State: spool.StateQueued, MailFrom: "",
		Rcpts: []spool.Rcpt{{Addr: rec.MailFrom, Status: spool.RcptPending}},
		Size:  int64(len(data)), SHA256: sum, ReceivedAt: now, NextAttempt: now,
		Expires: now.Add(r.cfg.Delivery.QueueLifetime),
		Subject: dsnSubject(failed),
		// The DSN needs SMTPUTF8 only when its own recipient does: a
		// non-ASCII original recipient travels in the 8-bit body, so a
		// next hop without SMTPUTF8 can still return it to the sender.
		UTF8:     !isASCIIString(rec.MailFrom),
		EightBit: true,
	}, nil
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
