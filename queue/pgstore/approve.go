package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/hold"
)

// Approve records actor's approval of a held message with hold.Store's
// rules (N of M distinct approvers; the approval that reaches N is the
// release), under the row lock, so approvals given on different nodes at
// once count each approver once and release once. A repeat gives
// hold.ErrAlreadyApproved, an outsider hold.ErrNotApprover, each with the
// record and nothing written.
func (s *Store) Approve(ctx context.Context, id string, actor hold.Actor, reason string) (*hold.Record, error) {
	var rec *hold.Record
	var result error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		rec, result, err = s.approveTx(ctx, tx, id, actor, reason, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, result
}

// ApproveWithToken is Approve through a link token: the token's subject
// is the approver, and the token is used only when the approval counts.
func (s *Store) ApproveWithToken(ctx context.Context, hash [32]byte, role hold.Role, actor hold.Actor, reason string) (*hold.Record, error) {
	var rec *hold.Record
	var result error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		tok, err := checkToken(ctx, tx, hash, role, now, true)
		if err != nil {
			return err
		}
		if tok.Subject != "" {
			actor.Name = tok.Subject
		}
		rec, result, err = s.approveTx(ctx, tx, tok.MessageID, actor, reason, now)
		if err != nil || result != nil {
			return err
		}
		return markUsed(ctx, tx, tok, now, actor)
	})
	if err != nil {
		return nil, err
	}
	return rec, result
}

func (s *Store) approveTx(ctx context.Context, tx pgx.Tx, id string, actor hold.Actor, reason string, now time.Time) (*hold.Record, error, error) {
	who := strings.ToLower(strings.TrimSpace(actor.Name))
	if who == "" {
		return nil, nil, fmt.Errorf("%w: approval without an approver", hold.ErrInvalid)
	}
	r, err := lockRecord(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if r.State.Final() {
		return r, decided(r), nil
	}
	if !r.Deadline.IsZero() && !now.Before(r.Deadline) && deadlineOutcome(r.Kind) != hold.StateReleased {
		if err := s.apply(ctx, tx, r, deadlineOutcome(r.Kind), hold.System, "deadline passed", hold.ModeAsIs, now); err != nil {
			return nil, nil, err
		}
		return r, decided(r), nil
	}
	if r.Required() > 1 && r.Kind == hold.KindApprover && len(r.Approvers) > 0 &&
		!slices.ContainsFunc(r.Approvers, func(a string) bool { return strings.ToLower(strings.TrimSpace(a)) == who }) {
		return r, hold.ErrNotApprover, nil
	}
	if r.ApprovedBy(who) {
		return r, hold.ErrAlreadyApproved, nil
	}
	r.Approvals = append(r.Approvals, hold.Approval{By: who, Role: actor.Role, At: now, IP: actor.IP})
	if len(r.Approvals) >= r.Required() {
		if err := s.apply(ctx, tx, r, hold.StateReleased, actor, reason, hold.ModeAsIs, now); err != nil {
			return nil, nil, err
		}
		return r, nil, nil
	}
	if err := putHold(ctx, tx, r); err != nil {
		return nil, nil, err
	}
	why := fmt.Sprintf("approval %d of %d", len(r.Approvals), r.Required())
	if reason != "" {
		why += ": " + reason
	}
	if _, err := appendEvent(ctx, tx, &hold.Event{MessageID: r.ID, Actor: actor, Action: hold.ActionApprove,
		From: hold.StateHeld, To: hold.StateHeld, Reason: why}, now); err != nil {
		return nil, nil, err
	}
	return r, nil, nil
}
