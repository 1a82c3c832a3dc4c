// Package hold keeps held messages until someone decides or a deadline passes.
//
// A held message is a Record in state held with a Kind (sender must confirm,
// approver must approve, security team must review, or a send delay runs).
// It leaves that state exactly once, to released, rejected, cancelled,
// expired or deleted, through Transition, which runs in one short bbolt
// update transaction that checks the current state, writes the new one,
// maintains every index, appends an audit event and calls the hooks of
// package queue, which move the message's spool record and record the
// side effects (rewrites, notices) as steps for a worker to run after the
// commit. So two clicks, two reviewers or a click racing the deadline give
// exactly one outcome, and no transaction ever waits on a zip or a fsync
// of another file.
//
// Invariants:
//   - All state lives in the bbolt DB the gateway opened; this package owns
//     only buckets prefixed hold_ and audit_ and never closes the DB.
//   - A record in a final state never changes again, except that Purge
//     deletes rejected, cancelled and expired ones after their retention.
//   - Secondary indexes (list filters, deadlines, counts, tokens by message)
//     change in the same transaction as the record they describe.
//   - A deadline that has passed wins over a later decision: Transition first
//     applies the deadline's outcome (release for delay, expiry otherwise),
//     so the result does not depend on when the timer last ran.
//   - Link tokens are stored only as their SHA-256 hash, bound to one message
//     and one role; state-changing use consumes them in the transition's
//     transaction.
//   - An approver hold may need N distinct approvals (ApprovalsRequired):
//     Approve records each on the record with an "approve" event and leaves
//     it held; the approval that reaches N is the one transition to
//     released. An approver counts once; any approver's rejection is a
//     plain Transition to rejected.
//   - The audit log is append-only and hash-chained: every event carries the
//     hash of the previous event's canonical bytes, and event times never
//     decrease. Verify finds the first broken link.
//
// Using it: package queue opens the store with its hooks (OnRelease and
// OnDecided move the spool record and record steps, OnPurge drops spool
// files after the commit); the gateway creates holds with CreateTx in the spool's own transaction
// together with AddTokenTx for the notice links, and runs Run (or calls
// Tick and Purge) for deadlines and retention. Pages call LookupToken on
// GET and TransitionWithToken (ApproveWithToken for an approval) on POST; the console calls List, Counts,
// Get, Transition, Events and EventsRange; an admin check calls Check and
// Verify.
//
// Storage, all keys big-endian where numeric:
//
//	hold_records    id → Record JSON (without the report)
//	hold_reports    id → rules.Report JSON as given
//	hold_index      field ‖ lp(value) ‖ created(8) ‖ id → nil   (List postings)
//	hold_deadlines  deadline(8) ‖ id → nil                       (held only)
//	hold_purge      decided(8) ‖ id → nil                        (rejected/cancelled/expired)
//	hold_counts     state, held/kind → uint64
//	hold_tokens     sha256(token) → Token JSON
//	hold_token_msg  lp(id) ‖ hash → nil
//	hold_token_exp  expires(8) ‖ hash → nil
//	audit_events    seq(8) → Event JSON
//	audit_by_msg    lp(id) ‖ seq(8) → nil
//	audit_meta      "head" → seq(8) ‖ hash(32) ‖ time(8)
//
// lp is a 2-byte length prefix, so no value's keys are a prefix of
// another's.
package hold
