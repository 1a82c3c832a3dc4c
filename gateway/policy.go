package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rewrite"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// DefaultHoldExpiry is how long a held message waits for a decision.
const DefaultHoldExpiry = 72 * time.Hour

// PolicyInspector is the Inspector of a running gateway: it analyses the
// spooled message, evaluates the policy and turns the decision into what
// acceptance does (reject, hold, deliver).
type PolicyInspector struct {
	Rules    *inspect.Inspector
	Holds    *hold.Store
	Notifier *Notifier // nil: no notices
	Log      *slog.Logger
	Expiry   time.Duration // 0: DefaultHoldExpiry
	// Approvers names the approvers of a sender when the rule names none.
	Approvers func(sender string) []string
}

// Inspect implements Inspector.
func (p *PolicyInspector) Inspect(ctx context.Context, in *Inbound) (*Verdict, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, fmt.Errorf("open spooled message: %w", err)
	}
	defer f.Close()
	res, err := p.Rules.Inspect(ctx, f, inspect.Envelope{MailFrom: in.Env.MailFrom, Rcpts: in.Env.Addresses()})
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
	v := &Verdict{Actions: d.Actions, Subject: rep.Subject, MessageID: res.MessageID, Report: repJSON, Decision: decJSON}
	if d.Has(rules.ActionReject) {
		v.Reject = true
		v.RejectReason = reasonText(d, "en")
		return v, nil
	}
	kind, ok := holdKind(d)
	if !ok {
		return v, nil
	}
	v.Hold = true
	deadline := in.Arrival.Add(p.expiry())
	if kind == hold.KindDelay {
		deadline = in.Arrival.Add(time.Duration(max(d.Params.DelayMinutes, 1)) * time.Minute)
	}
	hr := &hold.Record{
		ID: in.Env.QueueID, Kind: kind, CreatedAt: in.Arrival, Deadline: deadline,
		Sender: in.Env.MailFrom, Subject: rep.Subject, Recipients: summarize(rep, in.Env),
		Decision:  hold.Decision{Actions: d.Actions, Rules: d.Rules},
		Approvers: d.Params.Approvers, Report: repJSON,
	}
	if kind == hold.KindApprover && len(hr.Approvers) == 0 && p.Approvers != nil {
		hr.Approvers = p.Approvers(in.Env.MailFrom)
	}
	if kind == hold.KindApprover && len(hr.Approvers) == 0 {
		// Nobody could approve: the security team decides instead.
		hr.Kind = hold.KindReview
	}
	var notices *Prepared
	if p.Notifier != nil {
		hr.Language = p.Notifier.Lang
		if p.Notifier.LangOf != nil && hr.Sender != "" {
			hr.Language = p.Notifier.LangOf(hr.Sender)
		}
	}
	// The policy's own words, in the sender's language (Japanese when
	// notices are bilingual: the pages add each rule's description in
	// the reader's language).
	hr.Decision.Reasons = reasonTexts(d, cmp.Or(hr.Language, "ja"))
	if p.Notifier != nil {
		if notices, err = p.Notifier.ForHold(hr, rep, in.Arrival); err != nil {
			return nil, err
		}
	}
	v.Persist = func(tx *bbolt.Tx, _ *spool.Record) error {
		if err := p.Holds.CreateTx(tx, hr, hold.System, strings.Join(d.Rules, ",")); err != nil {
			return err
		}
		return notices.PersistTx(tx, p.Holds)
	}
	v.Discard = func() { notices.Discard(in.Store) }
	return v, nil
}

func (p *PolicyInspector) expiry() time.Duration {
	if p.Expiry > 0 {
		return p.Expiry
	}
	return DefaultHoldExpiry
}

// holdKind maps the decision to a hold. Actions that rewrite the message
// (bcc, encrypt, link) are not applied on acceptance yet: such a message is
// held for the security team rather than sent unprotected.
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
	case d.Has(rules.ActionEncrypt), d.Has(rules.ActionLink), d.Has(rules.ActionBcc):
		return hold.KindReview, true
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
func summarize(rep *rules.Report, env *Envelope) hold.RecipientSummary {
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

// Releaser is hold.Options.OnRelease: the released message is queued for
// delivery in the same transaction as the release. A release in Bcc mode
// first writes the rewritten copy (ID.bcc) that delivery will use; if the
// transaction does not commit, the copy is an unused file purged with the
// message.
type Releaser struct {
	Store *spool.Store
	// Internal tells internal domains; every other address is moved out of
	// To/Cc by a Bcc release.
	Internal func(domain string) bool
	Now      func() time.Time
}

// OnRelease implements the hook.
func (r *Releaser) OnRelease(tx *bbolt.Tx, rec *hold.Record) error {
	srec, err := spool.GetTx(tx, rec.ID)
	if err != nil {
		return err
	}
	switch rec.Mode {
	case "", hold.ModeAsIs:
	case hold.ModeBcc:
		if err := r.writeBcc(srec); err != nil {
			return err
		}
		srec.BodySuffix = "bcc"
		srec.Applied = append(srec.Applied, rules.ActionBcc)
	default:
		return fmt.Errorf("release mode %q is not available", rec.Mode)
	}
	srec.State = spool.StateQueued
	srec.NextAttempt = r.Now()
	return spool.PutTx(tx, srec)
}

func (r *Releaser) writeBcc(srec *spool.Record) error {
	src, err := r.Store.OpenBody(srec.ID)
	if err != nil {
		return fmt.Errorf("open held message: %w", err)
	}
	defer src.Close()
	r.Store.RemoveDerived(srec.ID, "bcc") // a copy left by an earlier attempt
	bw, err := r.Store.CreateDerived(srec.ID, "bcc")
	if err != nil {
		return err
	}
	_, err = rewrite.Bcc(bw, src, func(addr string) bool {
		_, dom, _ := strings.Cut(addr, "@")
		return !r.Internal(dom)
	})
	if err != nil && !errors.Is(err, rewrite.ErrFieldKept) {
		bw.Abort()
		return fmt.Errorf("convert to Bcc: %w", err)
	}
	if _, err := bw.Commit(); err != nil {
		return err
	}
	return r.Store.SyncDir()
}

// DecidedHook is hold.Options.OnDecided: a message that leaves the hold
// other than by release is finished in the spool.
func DecidedHook(now func() time.Time) func(tx *bbolt.Tx, rec *hold.Record, from hold.State) error {
	return func(tx *bbolt.Tx, rec *hold.Record, _ hold.State) error {
		var st spool.State
		switch rec.State {
		case hold.StateRejected:
			st = spool.StateRejected
		case hold.StateCancelled:
			st = spool.StateCancelled
		case hold.StateExpired:
			st = spool.StateExpired
		default:
			return nil
		}
		srec, err := spool.GetTx(tx, rec.ID)
		if err != nil {
			return err
		}
		srec.State = st
		srec.FinishedAt = now()
		return spool.PutTx(tx, srec)
	}
}
