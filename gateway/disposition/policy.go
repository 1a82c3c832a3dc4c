package disposition

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/extract"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// DefaultHoldExpiry is how long a held message waits for a decision.
const DefaultHoldExpiry = 72 * time.Hour

// PolicyInspector is the Inspector of a running gateway: it analyses the
// spooled message, evaluates the policy and turns the decision into a
// plan (reject, hold with its notices, or rewrites then delivery).
type PolicyInspector struct {
	Rules    *inspect.Inspector
	Notifier *Notifier // nil: no notices
	// Rewriter applies bcc, link and encrypt; a rewrite it cannot do holds
	// the message for review.
	Rewriter *Rewriter
	Log      *slog.Logger
	Expiry   time.Duration // 0: DefaultHoldExpiry
	// Approvers names the approvers of a sender when the rule names none.
	Approvers func(sender string) []string
	// ResolveApprovers, when set, replaces Approvers: who is asked to
	// approve a sender's message given the rule's own approvers (maybe
	// none) and the approvals needed, absent approvers' deputies included
	// (standIns maps each such deputy to the approver they stand in for).
	ResolveApprovers func(sender string, named []string, need int) (approvers []string, standIns map[string]string)
	// ApprovalsRequired is how many distinct approvers must approve when
	// the rule does not say (N of M); 0 means one.
	ApprovalsRequired int
	// Directory, when set, gives the sender's directory entry for the
	// policy; it must answer quickly (from a cache) and never fail.
	Directory func(ctx context.Context, sender string) *rules.SenderDirectory
	// KeepReports keeps each accepted message's analysis report for
	// policy replay; it commits with the acceptance.
	KeepReports bool
	// Baselines, when set, gives the policy the sender's usual behaviour
	// and learns from each accepted message; nil: no behaviour signals.
	Baselines Baselines
	// Deferral, when set, runs the rewrites of large messages after their
	// acceptance instead of before; nil runs every rewrite before.
	Deferral *Deferral
}

// Baselines are the senders' behaviour baselines (baseline.Tracker; a
// PostgreSQL-backed one the same). Lookup must answer from memory or a
// fast store and never fail (nil: no history); Learn only updates memory.
type Baselines interface {
	Lookup(ctx context.Context, sender string, at time.Time) *rules.SenderBehaviour
	Learn(ctx context.Context, sender string, rep *rules.Report, at time.Time)
}

// approvers names who approves hr and how many must: with fewer
// approvers than approvals needed (or none), nobody can release it by
// approval, so the security team reviews it instead.
func (p *PolicyInspector) approvers(hr *hold.Record, named []string, need int) {
	switch {
	case p.ResolveApprovers != nil:
		hr.Approvers, hr.StandIns = p.ResolveApprovers(hr.Sender, named, need)
	case len(named) == 0 && p.Approvers != nil:
		hr.Approvers = p.Approvers(hr.Sender)
	}
	if len(hr.Approvers) == 0 || len(hr.Approvers) < need {
		if len(hr.Approvers) > 0 {
			p.Log.Warn("fewer approvers than approvals required; holding for review", "queue_id", hr.ID,
				"approvers", len(hr.Approvers), "required", need)
		}
		hr.Kind = hold.KindReview
		return
	}
	if need > 1 {
		hr.ApprovalsRequired = need
	}
}

// analyze runs the rules over the message read from body: the report and
// the policy's decision.
func (p *PolicyInspector) analyze(ctx context.Context, mailFrom string, rcpts []string, arrival time.Time,
	body io.Reader) (*inspect.Result, error) {
	env := inspect.Envelope{MailFrom: mailFrom, Rcpts: rcpts}
	if p.Directory != nil && mailFrom != "" {
		env.Directory = p.Directory(ctx, mailFrom)
	}
	if p.Baselines != nil && mailFrom != "" {
		env.Behaviour = p.Baselines.Lookup(ctx, mailFrom, arrival)
	}
	return p.Rules.Inspect(ctx, body, env)
}

// Begin starts the analysis of a message whose body is still arriving,
// read from body as it is written (spool.BodyWriter.Tail), so that it
// overlaps the transfer; Inspect with in.Early set finishes it. Its time
// limits count from the last byte (extract.ArrivingInput).
func (p *PolicyInspector) Begin(in *Inbound, body *spool.TailReader) *Early {
	ctx, cancel := context.WithCancel(context.Background())
	body.StopOn(ctx.Done())
	ctx = extract.ArrivingInput(ctx, body.Complete())
	e := &Early{cancel: cancel, done: make(chan struct{})}
	mailFrom, rcpts, arrival := in.Env.MailFrom, in.Env.Addresses(), in.Arrival
	go func() {
		defer close(e.done)
		defer body.Close()
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("inspector panic: %v", r)
			}
		}()
		e.res, e.err = p.analyze(ctx, mailFrom, rcpts, arrival, body)
		if err := body.Err(); err != nil && e.err == nil {
			// The walk reads a failing reader as a cut message; a
			// discarded body has no verdict.
			e.res, e.err = nil, fmt.Errorf("analyse message: %w", err)
		}
	}()
	return e
}

// Early is an analysis begun while the body arrived (Begin).
type Early struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    *inspect.Result
	err    error
}

// wait returns the analysis once done; when ctx ends first, the analysis
// is stopped.
func (e *Early) wait(ctx context.Context) (*inspect.Result, error) {
	select {
	case <-e.done:
		return e.res, e.err
	case <-ctx.Done():
		e.Stop()
		return nil, fmt.Errorf("analyse message: %w", ctx.Err())
	}
}

// Stop ends the analysis and waits for it (a message not accepted after
// all). It may be called more than once.
func (e *Early) Stop() {
	e.cancel()
	<-e.done
}

// Inspect implements Inspector.
func (p *PolicyInspector) Inspect(ctx context.Context, in *Inbound) (*Verdict, error) {
	var res *inspect.Result
	var err error
	if in.Early != nil {
		res, err = in.Early.wait(ctx)
	} else {
		var f spool.Body
		f, err = in.Store.OpenBody(in.Env.QueueID)
		if err != nil {
			return nil, fmt.Errorf("open spooled message: %w", err)
		}
		res, err = p.analyze(ctx, in.Env.MailFrom, in.Env.Addresses(), in.Arrival, f)
		f.Close()
	}
	if err != nil {
		return nil, err
	}
	rep := res.Report
	for i := range rep.Findings {
		rep.Findings[i].Values = nil // raw PII is never stored
	}
	d := res.Decision
	repJSON, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	decJSON, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Actions: d.Actions, Rules: d.Rules, External: rep.Recipients.External, Subject: rep.Subject,
		MessageID: res.MessageID, Report: repJSON, Decision: decJSON, Shadow: d.Shadow}
	if p.Baselines != nil && in.Env.MailFrom != "" {
		sender, arrival := in.Env.MailFrom, in.Arrival
		v.Learn = func() { p.Baselines.Learn(context.WithoutCancel(ctx), sender, rep, arrival) }
	}
	if p.KeepReports {
		v.Stored = reports.FromAnalysis(in.Env.QueueID, in.Arrival, rep, &d)
	}
	if d.Has(rules.ActionReject) {
		v.Reject = true
		v.RejectReason = reasonText(d, "en")
		return v, nil
	}
	kind, ok := holdKind(d)
	why := strings.Join(d.Rules, ",")
	if !ok {
		rw := AcceptRewrites(d.Actions, d.Params.EncryptPassword)
		rw.OnAccept = true // committed by intake through Store.Accept
		msg := Message{ID: in.Env.QueueID, Sender: in.Env.MailFrom, Rcpts: in.Env.Addresses(), Subject: rep.Subject}
		if !p.Rewriter.Needed(msg, rw) {
			return v, nil
		}
		if p.Rewriter == nil {
			err = errors.New("rewrites are not configured")
		} else if release, ok := p.Deferral.take(in.Size); ok {
			v.Rewrite = &spool.Step{Kind: spool.StepRewrite, Actions: slices.Clone(d.Actions),
				PasswordDelivery: string(d.Params.EncryptPassword)}
			id := in.Env.QueueID
			v.Deferred = func() { p.Deferral.start(id, release) }
			v.undefer = release
			return v, nil
		} else {
			v.Applied, err = p.Rewriter.Apply(ctx, msg, rw, in.Arrival)
		}
		if err == nil {
			return v, nil
		}
		// A rewrite the policy asked for could not be done: the security
		// team decides rather than the mail leaving unprotected.
		p.Log.Warn("policy action could not be applied; holding for review", "queue_id", in.Env.QueueID, "err", err)
		kind, why = hold.KindReview, "rewrite failed: "+err.Error()
		// A reviewer's release must not retry the rewrite that failed.
		d.Actions = []string{rules.ActionHoldReview}
		v.Actions = d.Actions
	}
	deadline := in.Arrival.Add(p.expiry())
	if kind == hold.KindDelay {
		deadline = in.Arrival.Add(time.Duration(max(d.Params.DelayMinutes, 1)) * time.Minute)
	}
	hr := newHold(in.Env, rep, repJSON, d, kind, in.Arrival, deadline, p.Notifier)
	if kind == hold.KindApprover {
		p.approvers(hr, d.Params.Approvers, max(1, cmp.Or(d.Params.ApprovalsRequired, p.ApprovalsRequired)))
	}
	v.Hold, v.HoldReason = hr, why
	if p.Notifier != nil {
		if v.Notices, err = p.Notifier.ForHold(hr, rep, in.Arrival); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// newHold is the hold of a message that decision d holds as kind: all but
// its approvers, which the policy resolves.
func newHold(env *gateway.Envelope, rep *rules.Report, repJSON json.RawMessage, d policy.Decision, kind hold.Kind,
	created, deadline time.Time, n *Notifier) *hold.Record {
	hr := &hold.Record{
		ID: env.QueueID, Kind: kind, CreatedAt: created, Deadline: deadline,
		Sender: env.MailFrom, Subject: rep.Subject, Recipients: summarize(rep, env),
		Decision:  hold.Decision{Actions: d.Actions, Rules: d.Rules},
		Approvers: d.Params.Approvers, Report: repJSON,
	}
	if n != nil {
		hr.Language = n.Lang
		if n.LangOf != nil && hr.Sender != "" {
			hr.Language = n.LangOf(hr.Sender)
		}
	}
	// The policy's own words, in the sender's language (Japanese when
	// notices are bilingual: the pages add each rule's description in
	// the reader's language).
	hr.Decision.Reasons = reasonTexts(d, cmp.Or(hr.Language, "ja"))
	for _, r := range d.Reasons {
		hr.Decision.Localized = append(hr.Decision.Localized, hold.Reason{Rule: r.Rule, JA: r.JA, EN: r.EN})
	}
	return hr
}

// Discard implements Inspector.
func (p *PolicyInspector) Discard(v *Verdict) {
	if v.undefer != nil {
		v.undefer()
		v.undefer = nil
	}
	if p.Notifier != nil {
		v.Notices.Discard(p.Notifier.Store)
	}
	if p.Rewriter != nil {
		p.Rewriter.Discard(v.Applied)
	}
}

func (p *PolicyInspector) expiry() time.Duration {
	if p.Expiry > 0 {
		return p.Expiry
	}
	return DefaultHoldExpiry
}

// holdKind maps the decision to a hold.
func holdKind(d policy.Decision) (hold.Kind, bool) {
	switch {
	case d.Has(rules.ActionHoldReview):
		return hold.KindReview, true
	case d.Has(rules.ActionHoldApprover):
		return hold.KindApprover, true
	case d.Has(rules.ActionHoldSender):
		return hold.KindSender, true
	case d.Has(rules.ActionDelay):
		return hold.KindDelay, true
	}
	return "", false
}

func reasonText(d policy.Decision, lang string) string {
	var parts []string
	for _, r := range d.Reasons {
		if t := r.Text(lang); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

func reasonTexts(d policy.Decision, lang string) []string {
	var out []string
	for _, r := range d.Reasons {
		if t := r.Text(lang); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// summarize is the recipient summary the hold list shows.
func summarize(rep *rules.Report, env *gateway.Envelope) hold.RecipientSummary {
	s := hold.RecipientSummary{Total: len(env.Rcpts), External: rep.Recipients.External}
	seen := map[string]bool{}
	for _, rc := range env.Rcpts {
		_, dom, _ := strings.Cut(rc.Addr, "@")
		dom = strings.ToLower(dom)
		if !seen[dom] {
			seen[dom] = true
			s.Domains = append(s.Domains, dom)
		}
		if len(s.Addresses) < 10 {
			s.Addresses = append(s.Addresses, rc.Addr)
		}
	}
	return s
}
