package spool

import (
	"encoding/json"
	"strings"
	"time"
)

// State is where a message is in its life. See design.md:
// received → [held → released] → queued → delivered | bounced,
// or rejected | cancelled | expired | deleted.
type State string

// Message states. "received" is never stored: a message becomes a record
// only once it is owned (queued or held).
const (
	StateQueued State = "queued"
	StateHeld   State = "held"
	// StateReleased: a decision released the message and its release step
	// (rewrites, then queueing) is recorded but has not run yet.
	StateReleased  State = "released"
	StateDelivered State = "delivered"
	StateBounced   State = "bounced" // finished, at least one recipient failed
	StateExpired   State = "expired"
	StateRejected  State = "rejected"
	StateCancelled State = "cancelled"
	StateDeleted   State = "deleted" // removed by an admin
)

// Final reports whether no more work is done on a message in this state.
func (s State) Final() bool {
	switch s {
	case StateDelivered, StateBounced, StateExpired, StateRejected, StateCancelled, StateDeleted:
		return true
	}
	return false
}

// Kind tells ordinary mail from mail sendguard generates itself.
type Kind string

// Message kinds.
const (
	KindMail   Kind = "mail"
	KindDSN    Kind = "dsn"    // delivery status notification (null sender)
	KindNotice Kind = "notice" // notice to a sender, approver or reviewer
)

// RcptStatus is one recipient's delivery state.
type RcptStatus string

// Recipient states.
const (
	RcptPending   RcptStatus = "pending"
	RcptDelivered RcptStatus = "delivered"
	RcptFailed    RcptStatus = "failed"
)

// Rcpt is one envelope recipient and its delivery result.
type Rcpt struct {
	Addr     string     `json:"addr"`
	Status   RcptStatus `json:"status"`
	Code     int        `json:"code,omitempty"`
	Enhanced string     `json:"enhanced,omitempty"`
	Message  string     `json:"message,omitempty"`
	Remote   string     `json:"remote,omitempty"`
	// FromPeer: Code and Message are the remote server's own reply (a DSN
	// then quotes them as Diagnostic-Code), not a local explanation.
	FromPeer bool      `json:"from_peer,omitempty"`
	Updated  time.Time `json:"updated,omitzero"`
	// Body, if set, names this recipient's own copy (ID.Body), e.g. a mail
	// whose note carries this recipient's download link.
	Body string `json:"body,omitempty"`
	// RequireTLS defers delivery to this recipient while the next hop does
	// not offer STARTTLS (its domain's protection profile).
	RequireTLS bool `json:"require_tls,omitempty"`
	// DSN parameters (RFC 3461) carried through to the next hop.
	Notify string `json:"notify,omitempty"`
	ORcpt  string `json:"orcpt,omitempty"`
}

// Record is the metadata of one spooled message. The body is a file in the
// spool directory named by ID.
type Record struct {
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	State    State  `json:"state"`
	MailFrom string `json:"mail_from"`
	Rcpts    []Rcpt `json:"rcpts"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`

	MessageID string `json:"message_id,omitempty"`
	Subject   string `json:"subject,omitempty"`

	ReceivedAt time.Time `json:"received_at"`
	ClientIP   string    `json:"client_ip,omitempty"`
	Helo       string    `json:"helo,omitempty"`
	AuthUser   string    `json:"auth_user,omitempty"`

	// Delivery scheduling.
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Expires     time.Time `json:"expires"`
	LastError   string    `json:"last_error,omitempty"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	// DelayWarned: the sender was told once that delivery is delayed.
	DelayWarned bool `json:"delay_warned,omitempty"`

	// DSN envelope parameters (RFC 3461) and body type.
	DSNRet   string `json:"dsn_ret,omitempty"`
	DSNEnvID string `json:"dsn_envid,omitempty"`
	UTF8     bool   `json:"utf8,omitempty"`
	EightBit bool   `json:"eight_bit,omitempty"`

	// Analysis and decision (rules.Report and policy decision as JSON).
	Report   json.RawMessage `json:"report,omitempty"`
	Decision json.RawMessage `json:"decision,omitempty"`
	// Actions applied on acceptance (e.g. "bcc", "encrypt").
	Applied []string `json:"applied,omitempty"`
	// BodySuffix names the rewritten copy (ID.suffix) that is delivered
	// instead of the original body, e.g. "bcc" after a release in Bcc.
	BodySuffix string `json:"body_suffix,omitempty"`

	// Steps are side effects a transition recorded, run in order by a
	// worker after the transaction that recorded them (never inside it).
	// A record with steps is in the steps index and is not purged.
	Steps []Step `json:"steps,omitempty"`

	// InlineBody: the body is kept in the database beside the record
	// rather than in a spool file (small notices, see Inline).
	InlineBody bool `json:"inline_body,omitempty"`
	// InlineSuffix names a derived copy kept in the database too (a small
	// encrypted copy made on acceptance), beside the inline body if any:
	// it is delivered while BodySuffix names it. InlineCopy, when set, is
	// stored by PutTx as that copy in the same transaction, like Inline.
	InlineSuffix string `json:"inline_suffix,omitempty"`
	InlineCopy   []byte `json:"-"`
	// Inline, when set, is stored by PutTx as the record's body in the
	// same transaction (and sets InlineBody); it is never part of the
	// record's own encoding. A small notice so costs no file create,
	// fsync and unlink: the commit that owns it makes its bytes durable.
	Inline []byte `json:"-"`

	// knownJSON are Report and Decision as last read from the database
	// or written to it: the same slices still there are JSON already and
	// are stored as they are (encodeRecord), not checked again.
	knownJSON [2][]byte
}

// StepKind names a recorded side effect.
type StepKind string

// Step kinds.
const (
	// StepRelease applies the release's rewrites (Bcc → link → encrypt)
	// and then queues the message for delivery.
	StepRelease StepKind = "release"
	// StepNotice spools the sender's notice of a hold's outcome.
	StepNotice StepKind = "notice"
	// StepRewrite applies the rewrites of an accepted message that was
	// not held (Bcc → link → encrypt) after its 250, then queues it; one
	// that cannot be done holds the message for review instead. Only
	// large messages take it (see disposition.Deferral).
	StepRewrite StepKind = "rewrite"
)

// Step is one recorded side effect. Running it must be idempotent: it
// commits its results and removes itself in one transaction, so a crash
// before that commit runs it again from the start.
type Step struct {
	Kind StepKind `json:"kind"`
	// Mode is how a release goes out (hold.ReleaseMode); Actions are the
	// rewrites the decision asked for.
	Mode    string   `json:"mode,omitempty"`
	Actions []string `json:"actions,omitempty"`
	// Notice is the outcome a notice reports (the hold state).
	Notice string `json:"notice,omitempty"`
	// PasswordDelivery is how a rewrite's zip password travels (the
	// policy's encrypt_password: sender, recipient, preset); never a
	// password.
	PasswordDelivery string `json:"password_delivery,omitempty"`

	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Pending lists the recipients still to be delivered.
func (r *Record) Pending() []string {
	var out []string
	for _, rc := range r.Rcpts {
		if rc.Status == RcptPending {
			out = append(out, rc.Addr)
		}
	}
	return out
}

// SetRcptBodies points recipients at their own copies (ID.suffix), by
// address as given or lower-cased.
func (r *Record) SetRcptBodies(bodies map[string]string) {
	for i := range r.Rcpts {
		if b, ok := bodies[r.Rcpts[i].Addr]; ok {
			r.Rcpts[i].Body = b
		} else if b, ok := bodies[strings.ToLower(r.Rcpts[i].Addr)]; ok {
			r.Rcpts[i].Body = b
		}
	}
}
