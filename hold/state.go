package hold

// State is where a held message is in its life.
type State string

// States of a held message. Every state but held is final.
const (
	StateHeld      State = "held"
	StateReleased  State = "released"
	StateRejected  State = "rejected"
	StateCancelled State = "cancelled"
	StateExpired   State = "expired"
	// StateDeleted: an admin removed the message (sendguard queue delete).
	StateDeleted State = "deleted"
)

// States lists every state, held first.
var states = [...]State{StateHeld, StateReleased, StateRejected, StateCancelled, StateExpired, StateDeleted}

// Final reports whether no transition leaves s.
func (s State) Final() bool { return s != StateHeld }

func (s State) valid() bool {
	for _, v := range states {
		if s == v {
			return true
		}
	}
	return false
}

// purgeable reports whether Purge deletes records in s after the retention.
// Released records belong to the spool's delivery life and are kept.
func (s State) purgeable() bool {
	return s == StateRejected || s == StateCancelled || s == StateExpired || s == StateDeleted
}

// Kind says who or what a held message is waiting for.
type Kind string

// Kinds of hold, one per policy hold action.
const (
	KindSender   Kind = "sender"   // hold_sender: the sender confirms
	KindApprover Kind = "approver" // hold_approver: an approver approves
	KindReview   Kind = "review"   // hold_review: the security team reviews
	KindDelay    Kind = "delay"    // delay: released when the deadline passes
)

func (k Kind) valid() bool {
	switch k {
	case KindSender, KindApprover, KindReview, KindDelay:
		return true
	}
	return false
}

// ReleaseMode says how a released message goes out.
type ReleaseMode string

// Release modes; the zero value means ModeAsIs.
const (
	ModeAsIs    ReleaseMode = "as_is"
	ModeBcc     ReleaseMode = "bcc"     // visible external recipients moved to Bcc
	ModeEncrypt ReleaseMode = "encrypt" // attachments zipped with AES-256
)

func (m ReleaseMode) valid() bool {
	return m == ModeAsIs || m == ModeBcc || m == ModeEncrypt
}

// Audit actions written by this package. Callers may append others.
const (
	ActionHold    = "hold"
	ActionRelease = "release"
	ActionReject  = "reject"
	ActionCancel  = "cancel"
	ActionExpire  = "expire"
	ActionDelete  = "delete"
	ActionPurge   = "purge"
)

// actionFor names the audit action of a transition into to.
func actionFor(to State) string {
	switch to {
	case StateReleased:
		return ActionRelease
	case StateRejected:
		return ActionReject
	case StateCancelled:
		return ActionCancel
	case StateExpired:
		return ActionExpire
	case StateDeleted:
		return ActionDelete
	}
	return string(to)
}

// legal reports whether a record of kind k may move from one state to
// another. Only held records move. A delay hold has no expiry: its deadline
// releases it, and a person may still cancel or reject it before that.
func legal(k Kind, from, to State) bool {
	if from != StateHeld {
		return false
	}
	switch to {
	case StateReleased, StateRejected, StateCancelled, StateDeleted:
		return true
	case StateExpired:
		return k != KindDelay
	}
	return false
}

// deadlineOutcome is the state a held record of kind k takes when its
// deadline passes.
func deadlineOutcome(k Kind) State {
	if k == KindDelay {
		return StateReleased
	}
	return StateExpired
}
