package hold

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
)

// maxIDLen bounds queue IDs; they are parts of index keys.
const maxIDLen = 255

// Record is one held message. The message bytes stay in the spool under the
// same ID.
type Record struct {
	ID    string      `json:"id"` // the spool's queue ID
	Kind  Kind        `json:"kind"`
	State State       `json:"state"`
	Mode  ReleaseMode `json:"mode,omitempty"` // set when released

	CreatedAt time.Time `json:"created_at"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Deadline is when a delay releases or another hold expires; zero means
	// no deadline (it waits until someone decides).
	Deadline time.Time `json:"deadline,omitzero"`

	Sender     string           `json:"sender"` // envelope sender, lower-cased
	Subject    string           `json:"subject"`
	Recipients RecipientSummary `json:"recipients"`
	Decision   Decision         `json:"decision"`
	Approvers  []string         `json:"approvers,omitempty"`
	// ApprovalsRequired is how many distinct Approvers must approve an
	// approver hold (N of M); 0 and 1 mean one.
	ApprovalsRequired int `json:"approvals_required,omitempty"`
	// Approvals are the approvals recorded so far, in order; the one that
	// reaches Required() released the message.
	Approvals []Approval `json:"approvals,omitempty"`
	// StandIns maps a deputy among Approvers to the absent approver they
	// were asked in place of.
	StandIns map[string]string `json:"stand_ins,omitempty"`
	Language string            `json:"language,omitempty"` // for notices and pages, e.g. "ja"

	DecidedBy Actor  `json:"decided_by,omitzero"`
	Reason    string `json:"reason,omitempty"` // why it was decided

	// Report is the rules.Report as JSON, stored as given. List leaves it
	// empty; Get fills it.
	Report json.RawMessage `json:"-"`
}

// RecipientSummary is what the console shows about recipients without
// loading the report.
type RecipientSummary struct {
	Total    int `json:"total"`
	External int `json:"external"`
	// Domains are the distinct recipient domains; each is a list filter.
	Domains []string `json:"domains"`
	// Addresses is a short sample for display.
	Addresses []string `json:"addresses,omitempty"`
}

// Decision is the policy's verdict that held the message.
type Decision struct {
	Actions []string `json:"actions"`
	Rules   []string `json:"rules"`
	// Reasons are the policy's reasons in the sender's language, as
	// records before Localized kept them (read when Localized is empty).
	Reasons []string `json:"reasons,omitempty"`
	// Localized are the policy's reasons in every language, so each page
	// and mail shows its reader's.
	Localized []Reason `json:"localized_reasons,omitempty"`
}

// Reason is one rule's reason in Japanese and English.
type Reason struct {
	Rule string `json:"rule,omitempty"`
	JA   string `json:"ja,omitempty"`
	EN   string `json:"en,omitempty"`
}

// Actor is who caused an event. IP and UserAgent are empty for the system.
type Actor struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// System is the actor for timer and purge events.
var System = Actor{Name: "sendguard", Role: "system"}

// normalize lower-cases the fields used as filters, drops duplicate
// domains and fixes times to UTC so index keys and JSON agree.
func (r *Record) normalize() {
	r.Sender = strings.ToLower(strings.TrimSpace(r.Sender))
	r.Recipients.Domains = uniqueLower(r.Recipients.Domains)
	r.Decision.Rules = uniqueLower(r.Decision.Rules)
	r.CreatedAt = r.CreatedAt.UTC()
	r.DecidedAt = utcOrZero(r.DecidedAt)
	r.Deadline = utcOrZero(r.Deadline)
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func uniqueLower(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// validateNew checks a record handed to Create.
func (r *Record) validateNew() error {
	switch {
	case r.ID == "" || len(r.ID) > maxIDLen:
		return fmt.Errorf("%w: id must be 1..%d bytes", ErrInvalid, maxIDLen)
	case !r.Kind.valid():
		return fmt.Errorf("%w: kind %q", ErrInvalid, r.Kind)
	case r.State != "" && r.State != StateHeld:
		return fmt.Errorf("%w: new record in state %q", ErrInvalid, r.State)
	case r.Kind == KindDelay && r.Deadline.IsZero():
		return fmt.Errorf("%w: delay hold without deadline", ErrInvalid)
	case r.ApprovalsRequired < 0 || (r.ApprovalsRequired > 1 && r.Kind != KindApprover):
		return fmt.Errorf("%w: approvals_required %d on a %s hold", ErrInvalid, r.ApprovalsRequired, r.Kind)
	case r.Kind == KindApprover && len(r.Approvers) > 0 && r.ApprovalsRequired > len(r.Approvers):
		return fmt.Errorf("%w: %d approvals required of %d approvers", ErrInvalid, r.ApprovalsRequired, len(r.Approvers))
	case r.CreatedAt.Before(time.Unix(0, 0)):
		return fmt.Errorf("%w: created_at before 1970", ErrInvalid)
	}
	if len(r.Report) > 0 && !json.Valid(r.Report) {
		return fmt.Errorf("%w: report is not JSON", ErrInvalid)
	}
	return nil
}

func (r *Record) clone() *Record {
	c := *r
	c.Recipients.Domains = append([]string(nil), r.Recipients.Domains...)
	c.Recipients.Addresses = append([]string(nil), r.Recipients.Addresses...)
	c.Decision.Actions = append([]string(nil), r.Decision.Actions...)
	c.Decision.Rules = append([]string(nil), r.Decision.Rules...)
	c.Decision.Reasons = append([]string(nil), r.Decision.Reasons...)
	c.Decision.Localized = append([]Reason(nil), r.Decision.Localized...)
	c.Approvers = append([]string(nil), r.Approvers...)
	c.Approvals = append([]Approval(nil), r.Approvals...)
	c.StandIns = maps.Clone(r.StandIns)
	c.Report = append(json.RawMessage(nil), r.Report...)
	return &c
}
