package disposition

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/sendguard/sendguard/gateway"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
)

// Inbound is a message that has been spooled but not yet accepted.
type Inbound struct {
	Env     *gateway.Envelope
	Store   *spool.Store // holds the body (OpenBody of Env.QueueID), Received header included
	Size    int64
	Client  string // client IP
	Auth    string // authenticated user
	Arrival time.Time
	// Early, if set, is the analysis begun while the body arrived
	// (PolicyInspector.Begin): Inspect finishes it instead of reading the
	// body again.
	Early *Early
}

// Verdict is the plan for one message: what acceptance does with it and
// what was prepared for that. It is a value: the pipeline applies it.
type Verdict struct {
	// Reject refuses the message with 550 5.7.1 and this reason.
	Reject       bool
	RejectReason string

	// Hold, if set, keeps the message out of the delivery queue in this
	// hold, created with the message; HoldReason says why.
	Hold       *hold.Record
	HoldReason string
	// Notices are notice mails (and their link tokens) spooled for the
	// hold, committed with the message.
	Notices *Prepared

	// Applied are the rewrites done before delivery (Bcc, links, zip): the
	// copies to deliver instead of the body, and their notices.
	Applied *Applied
	// Rewrite, instead of Applied, defers the rewrites until after the
	// acceptance: the message is accepted released with this step, and
	// Deferred, called once it is committed, runs the step.
	Rewrite  *spool.Step
	Deferred func()
	undefer  func() // gives back the deferral's slot if not committed

	Actions   []string
	Rules     []string // the policy rules that matched
	External  int      // external recipients, for the message line
	Subject   string
	MessageID string
	Report    json.RawMessage
	Decision  json.RawMessage
	// Shadow are the shadow rules that matched: counted, never enforced.
	Shadow []policy.Shadow
	// Stored is the analysis report kept for policy replay, if any.
	Stored *reports.Report
	// Learn, if set, is called once the message is accepted: the sender's
	// baseline learns from it (a refused or retried message teaches
	// nothing).
	Learn func()
}

// Acceptance is what commits with rec (in the state front built it) when
// the verdict is not a rejection: the decision recorded on the message,
// the copies to deliver, the hold, every notice and the kept report.
func (v *Verdict) Acceptance(rec *spool.Record) queue.Acceptance {
	rec.Subject, rec.MessageID, rec.Report, rec.Decision, rec.Applied = v.Subject, v.MessageID, v.Report, v.Decision, v.Actions
	v.Applied.Record(rec)
	a := queue.Acceptance{Message: rec, Hold: v.Hold, HoldReason: v.HoldReason, Report: v.Stored, Rewrite: v.Rewrite}
	for _, m := range v.Shadow {
		// What the rule would have done, beside what was done: the
		// console's badge and the audit trail of a rule being tried.
		a.Audit = append(a.Audit, hold.Event{MessageID: rec.ID, Actor: hold.System, Action: reports.AuditShadowMatch,
			Reason: m.Rule + "=" + strings.Join(m.Actions, "+")})
	}
	if v.Stored != nil {
		// What acceptance does, a failed rewrite's review hold included.
		v.Stored.Actions = v.Actions
	}
	a.Notices.Add(v.Notices.Queued())
	if v.Applied != nil {
		a.Notices.Add(v.Applied.Notices.Queued())
	}
	return a
}
