package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
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
	// Encryptor applies the encrypt action; nil holds such mail for review.
	Encryptor *Encryptor
	// Linker applies the link action; nil holds such mail for review.
	Linker *Linker
	// Internal tells internal domains (for Bcc conversion).
	Internal func(domain string) bool
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
	why := strings.Join(d.Rules, ",")
	if !ok {
		err := p.rewrite(v, d, in, rep)
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
	for _, r := range d.Reasons {
		hr.Decision.Localized = append(hr.Decision.Localized, hold.Reason{Rule: r.Rule, JA: r.JA, EN: r.EN})
	}
	if p.Notifier != nil {
		if notices, err = p.Notifier.ForHold(hr, rep, in.Arrival); err != nil {
			return nil, err
		}
	}
	v.Persist = func(tx *bbolt.Tx, _ *spool.Record) error {
		if err := p.Holds.CreateTx(tx, hr, hold.System, why); err != nil {
			return err
		}
		return notices.PersistTx(tx, p.Holds)
	}
	v.Discard = func() { notices.Discard(in.Store) }
	return v, nil
}

// rewrite applies the decision's rewriting actions to a message that is not
// held: Bcc conversion, then attachment encryption.
func (p *PolicyInspector) rewrite(v *Verdict, d policy.Decision, in *Inbound, rep *rules.Report) error {
	id := in.Env.QueueID
	suffix := ""
	if d.Has(rules.ActionBcc) {
		if err := writeBcc(in.Store, id, p.Internal); err != nil {
			return err
		}
		suffix = "bcc"
	}
	if d.Has(rules.ActionLink) {
		if p.Linker == nil {
			return errors.New("download links are not configured")
		}
		ln, err := p.Linker.Apply(context.Background(), id, suffix, in.Env.MailFrom, in.Env.Addresses(), rep.Subject, in.Arrival)
		switch {
		case errors.Is(err, rewrite.ErrNoAttachments):
		case err != nil:
			return fmt.Errorf("replace attachments by links: %w", err)
		default:
			v.RcptBodies = ln.RcptBodies
			v.Persist = func(tx *bbolt.Tx, _ *spool.Record) error { return ln.Notices.PersistTx(tx, nil) }
			v.Discard = func() {
				ln.Notices.Discard(in.Store)
				p.Linker.Links.RevokeID(context.Background(), ln.PackageID, hold.System)
			}
		}
	}
	if d.Has(rules.ActionEncrypt) {
		if p.Encryptor == nil {
			return errors.New("encryption is not configured")
		}
		enc, err := p.Encryptor.Apply(id, suffix, in.Env.MailFrom, in.Env.Addresses(), rep.Subject, d.Params.EncryptPassword, in.Arrival)
		switch {
		case errors.Is(err, ErrNothingToEncrypt):
		case err != nil:
			in.Store.RemoveBody(id + "." + suffix)
			return fmt.Errorf("encrypt attachments: %w", err)
		default:
			suffix = enc.Suffix
			v.Persist = func(tx *bbolt.Tx, _ *spool.Record) error { return enc.Notices.PersistTx(tx, nil) }
			v.Discard = func() { enc.Notices.Discard(in.Store) }
		}
	}
	v.BodySuffix = suffix
	return nil
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
// (or of a decision that asked for bcc) first writes the rewritten copy
// ID.bcc; one in encrypt mode (or of a decision that asked for encrypt)
// writes ID.enc and queues the password notice. Delivery uses the last
// copy. If the transaction does not commit, the copies are unused files
// purged with the message; if a rewrite fails, the release fails and the
// message stays held.
type Releaser struct {
	Store     *spool.Store
	Internal  func(domain string) bool // every other domain is external
	Encryptor *Encryptor
	Linker    *Linker
	Now       func() time.Time
}

// OnRelease implements the hook.
func (r *Releaser) OnRelease(tx *bbolt.Tx, rec *hold.Record) error {
	srec, err := spool.GetTx(tx, rec.ID)
	if err != nil {
		return err
	}
	switch rec.Mode {
	case "", hold.ModeAsIs, hold.ModeBcc, hold.ModeEncrypt:
	default:
		return fmt.Errorf("release mode %q is not available", rec.Mode)
	}
	suffix := ""
	if rec.Mode == hold.ModeBcc || slices.Contains(rec.Decision.Actions, rules.ActionBcc) {
		if err := writeBcc(r.Store, srec.ID, r.Internal); err != nil {
			return err
		}
		suffix = "bcc"
		srec.Applied = append(srec.Applied, rules.ActionBcc)
	}
	var rcpts []string
	for _, rc := range srec.Rcpts {
		rcpts = append(rcpts, rc.Addr)
	}
	if rec.Mode != hold.ModeEncrypt && slices.Contains(rec.Decision.Actions, rules.ActionLink) {
		if r.Linker == nil {
			return errors.New("download links are not configured")
		}
		ln, err := r.Linker.Apply(context.Background(), srec.ID, suffix, srec.MailFrom, rcpts, srec.Subject, r.Now())
		switch {
		case errors.Is(err, rewrite.ErrNoAttachments):
		case err != nil:
			return fmt.Errorf("replace attachments by links: %w", err)
		default:
			if err := r.Store.SyncDir(); err != nil {
				return err
			}
			if err := ln.Notices.PersistTx(tx, nil); err != nil {
				return err
			}
			applyRcptBodies(srec, ln.RcptBodies)
			srec.Applied = append(srec.Applied, rules.ActionLink)
		}
	}
	if rec.Mode == hold.ModeEncrypt || slices.Contains(rec.Decision.Actions, rules.ActionEncrypt) {
		if r.Encryptor == nil {
			return errors.New("encryption is not configured")
		}
		enc, err := r.Encryptor.Apply(srec.ID, suffix, srec.MailFrom, rcpts, srec.Subject, PasswordToSender, r.Now())
		switch {
		case errors.Is(err, ErrNothingToEncrypt):
		case err != nil:
			return fmt.Errorf("encrypt attachments: %w", err)
		default:
			if err := r.Store.SyncDir(); err != nil {
				return err
			}
			if err := enc.Notices.PersistTx(tx, nil); err != nil {
				return err
			}
			suffix = enc.Suffix
			srec.Applied = append(srec.Applied, rules.ActionEncrypt)
		}
	}
	srec.BodySuffix = suffix
	srec.State = spool.StateQueued
	srec.NextAttempt = r.Now()
	return spool.PutTx(tx, srec)
}

// writeBcc writes ID.bcc: the message with every external address moved
// out of To/Cc, every other byte unchanged.
func writeBcc(store *spool.Store, id string, internal func(string) bool) error {
	src, err := store.OpenBody(id)
	if err != nil {
		return fmt.Errorf("open held message: %w", err)
	}
	defer src.Close()
	store.RemoveDerived(id, "bcc") // a copy left by an earlier attempt
	bw, err := store.CreateDerived(id, "bcc")
	if err != nil {
		return err
	}
	_, err = rewrite.Bcc(bw, src, func(addr string) bool {
		_, dom, _ := strings.Cut(addr, "@")
		return !internal(dom)
	})
	if err != nil && !errors.Is(err, rewrite.ErrFieldKept) {
		bw.Abort()
		return fmt.Errorf("convert to Bcc: %w", err)
	}
	if _, err := bw.Commit(); err != nil {
		return err
	}
	return store.SyncDir()
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
