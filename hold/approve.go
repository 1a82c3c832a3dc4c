package hold

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// ActionApprove is the audit action of an approval that does not yet
// release its message (N-of-M approval short of N). The approval that
// reaches N is the release transition itself and is logged as release.
const ActionApprove = "approve"

var (
	// ErrAlreadyApproved: this approver's approval is already recorded; a
	// second one counts nothing and changes nothing.
	ErrAlreadyApproved = errors.New("hold: already approved by this approver")
	// ErrNotApprover: the record names its approvers and the actor is not
	// one of them.
	ErrNotApprover = errors.New("hold: not an approver of this message")
)

// Approval is one approver's yes on an approver hold.
type Approval struct {
	By   string    `json:"by"` // the approver, lower-cased
	Role string    `json:"role,omitempty"`
	At   time.Time `json:"at"`
	IP   string    `json:"ip,omitempty"`
}

// Required is the number of distinct approvals that release r: its
// ApprovalsRequired on an approver hold, else one (every other kind is
// decided by its first yes).
func (r *Record) Required() int {
	if r.Kind != KindApprover || r.ApprovalsRequired < 1 {
		return 1
	}
	return r.ApprovalsRequired
}

// ApprovedBy reports whether who has already approved r.
func (r *Record) ApprovedBy(who string) bool {
	who = normalApprover(who)
	return slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.By == who })
}

// mayApprove reports whether who is one of an approver hold's named
// approvers; other kinds, and a hold naming none, accept anyone the caller
// let through (a reviewer in the console).
func (r *Record) mayApprove(who string) bool {
	if r.Kind != KindApprover || len(r.Approvers) == 0 {
		return true
	}
	who = normalApprover(who)
	return slices.ContainsFunc(r.Approvers, func(a string) bool { return normalApprover(a) == who })
}

func normalApprover(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Approve records actor's approval of a held message. actor.Name is the
// approver's identity (their address). The approval that brings the
// distinct approvals to Required() is the transition to released, with
// every hook; an earlier one is written on the record with an "approve"
// audit event and leaves it held. An approver counts once: a repeat
// returns the record with ErrAlreadyApproved and writes nothing. When more
// than one approval is needed, an actor not among the record's Approvers
// gets ErrNotApprover. A rejection needs
// no quorum: Transition to rejected by any approver decides.
func (s *Store) Approve(ctx context.Context, id string, actor Actor, reason string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *Record
	var result error
	err := s.opts.Commit(func(tx *bbolt.Tx) error {
		var wrote bool
		var err error
		rec, wrote, err = s.approveTx(tx, id, actor, reason, s.now())
		return commitApproval(wrote, err, &result)
	})
	return finish(rec, result, err)
}

// ApproveWithToken is Approve through a link token of role: the token's
// Subject (the approver the link was sent to) is the approver, and the
// token is used up only when the approval is written.
func (s *Store) ApproveWithToken(ctx context.Context, hash [32]byte, role Role, actor Actor, reason string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
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
		rec, wrote, err = s.approveTx(tx, tok.MessageID, a, reason, now)
		if err == nil {
			err = markTokenUsed(tx, tok, now, a)
		}
		return commitApproval(wrote, err, &result)
	})
	return finish(rec, result, err)
}

// tokenActor names the person behind a link: the token's subject when it
// was issued to one.
func tokenActor(tok *Token, actor Actor) Actor {
	if tok.Subject != "" {
		actor.Name = tok.Subject
	}
	return actor
}

// commitApproval is commitIf that also rolls back a refused approval
// (a repeat, an outsider) while its caller returns the record with the
// refusal, so a page can still show "1 of 2".
func commitApproval(wrote bool, err error, result *error) error {
	var ref *refusal
	if errors.As(err, &ref) {
		*result = ref.err
		return errRollback
	}
	return commitIf(wrote, err, result)
}

func (s *Store) approveTx(tx *bbolt.Tx, id string, actor Actor, reason string, now time.Time) (*Record, bool, error) {
	who := normalApprover(actor.Name)
	if who == "" {
		return nil, false, fmt.Errorf("%w: approval without an approver", ErrInvalid)
	}
	r, err := getRecord(tx, id)
	if err != nil {
		return nil, false, err
	}
	if r.State.Final() {
		return r, false, decidedError(r)
	}
	if !r.Deadline.IsZero() && !now.Before(r.Deadline) {
		out := deadlineOutcome(r.Kind)
		if out != StateReleased {
			if err := s.apply(tx, r, out, System, "deadline passed", ModeAsIs, now); err != nil {
				return nil, false, err
			}
			return r, true, decidedError(r)
		}
	}
	// One approval needed: whoever holds an approver's link decides, as
	// before N of M; counting needs to know who is who.
	if r.Required() > 1 && !r.mayApprove(who) {
		return r, false, refuse(ErrNotApprover)
	}
	if r.ApprovedBy(who) {
		return r, false, refuse(ErrAlreadyApproved)
	}
	r.Approvals = append(r.Approvals, Approval{By: who, Role: actor.Role, At: now, IP: actor.IP})
	if len(r.Approvals) >= r.Required() {
		if err := s.apply(tx, r, StateReleased, actor, reason, ModeAsIs, now); err != nil {
			return nil, false, err
		}
		return r, true, nil
	}
	if err := putRecord(tx, r); err != nil {
		return nil, false, err
	}
	if _, err := s.appendEventTx(tx, &Event{
		MessageID: r.ID, Actor: actor, Action: ActionApprove, From: StateHeld, To: StateHeld,
		Reason: approvalReason(len(r.Approvals), r.Required(), reason),
	}); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// approvalReason says how far the quorum is in the audit log.
func approvalReason(n, of int, reason string) string {
	s := fmt.Sprintf("approval %d of %d", n, of)
	if reason != "" {
		s += ": " + reason
	}
	return s
}

// refusal carries an approval refusal through commitIf, which rolls back.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuse(err error) error { return &refusal{err} }
