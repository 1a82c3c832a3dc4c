package policy

import (
	"slices"

	"github.com/sendguard/sendguard/rules"
)

// Reason explains a rule's decision to the sender, in Japanese and English.
// A policy may give one plain string for both. Rule is the rule's name.
type Reason struct {
	Rule string `yaml:"-" json:"rule"`
	JA   string `yaml:"ja" json:"ja,omitempty"`
	EN   string `yaml:"en" json:"en,omitempty"`
}

// Text returns the reason in lang ("ja" or "en"), falling back to the other.
func (r Reason) Text(lang string) string {
	if lang == "ja" && r.JA != "" || r.EN == "" {
		return r.JA
	}
	return r.EN
}

// Params refine the actions of a decision.
type Params struct {
	// DelayMinutes is how long a delay action holds the message.
	DelayMinutes int `yaml:"delay_minutes" json:"delay_minutes,omitempty"`
	// EncryptPassword says who receives the zip password: "sender",
	// "recipient" or "preset".
	EncryptPassword rules.PasswordDelivery `yaml:"encrypt_password" json:"encrypt_password,omitempty"`
	// Approvers are the addresses asked to approve a hold_approver message.
	Approvers []string `yaml:"approvers" json:"approvers,omitempty"`
	// ApprovalsRequired is how many distinct approvers must approve (N of
	// M); 0 takes hold.approvals_required from the config.
	ApprovalsRequired int `yaml:"approvals_required" json:"approvals_required,omitempty"`
}

// Decision is the outcome of evaluating a policy over one report.
type Decision struct {
	Actions []string `json:"actions"`
	Rules   []string `json:"rules"`
	Reasons []Reason `json:"reasons"`
	Params  Params   `json:"params"`
	// Errors are conditions that failed at run time (their rules counted as
	// matched).
	Errors []string `json:"errors,omitempty"`
	// Shadow are the rules in mode: shadow that matched, with the actions
	// they would have taken. They change nothing above.
	Shadow []Shadow `json:"shadow,omitempty"`
}

// Shadow is a match of a rule in mode: shadow.
type Shadow struct {
	Rule    string   `json:"rule"`
	Actions []string `json:"actions"`
}

// Has reports whether the decision includes action.
func (d *Decision) Has(action string) bool {
	for _, a := range d.Actions {
		if a == action {
			return true
		}
	}
	return false
}

// actionOrder is the fixed order of Decision.Actions; the hold kinds come
// first among the non-reject actions, strongest first.
var actionOrder = []string{
	rules.ActionReject, rules.ActionHoldReview, rules.ActionHoldApprover, rules.ActionHoldSender,
	rules.ActionDelay, rules.ActionBcc, rules.ActionEncrypt, rules.ActionLink, rules.ActionDeliver,
}

// Indexes into actionOrder.
const (
	idxReject = iota
	idxHoldReview
	idxHoldApprover
	idxHoldSender
	idxDelay
	idxBcc
	idxEncrypt
	idxLink
	idxDeliver
	numActions
)

// actionIndex returns the index of a in actionOrder, or -1.
func actionIndex(a string) int {
	for i, k := range actionOrder {
		if k == a {
			return i
		}
	}
	return -1
}

func isHold(a string) bool {
	i := actionIndex(a)
	return i >= idxHoldReview && i <= idxDelay
}

// combine merges the contributions of the matched rules (in order) following
// the semantics in the package doc.
func combine(matched []*rule) Decision {
	d := Decision{Actions: []string{}, Rules: make([]string, 0, len(matched)), Reasons: []Reason{}}
	if len(matched) == 0 {
		d.Actions = append(d.Actions, rules.ActionDeliver)
		return d
	}
	var (
		first     [numActions]*rule // first rule contributing each action
		transform = -1              // encrypt or link, first contributed
	)
	for _, r := range matched {
		d.Rules = append(d.Rules, r.name)
		if r.reason.JA != "" || r.reason.EN != "" {
			d.Reasons = append(d.Reasons, r.reason)
		}
		for _, i := range r.actionIdx {
			if first[i] == nil {
				first[i] = r
			}
			if transform < 0 && (i == idxEncrypt || i == idxLink) {
				transform = i
			}
		}
	}
	var keep [numActions]bool
	if first[idxReject] != nil {
		keep[idxReject] = true
	} else {
		for i := idxHoldReview; i <= idxDelay; i++ {
			if first[i] != nil {
				keep[i] = true
				break
			}
		}
		keep[idxBcc] = first[idxBcc] != nil
		if transform >= 0 {
			keep[transform] = true
		}
		if keep == ([numActions]bool{}) {
			keep[idxDeliver] = true
		}
	}
	for i, k := range keep {
		if k {
			d.Actions = append(d.Actions, actionOrder[i])
		}
	}
	if keep[idxDelay] {
		d.Params.DelayMinutes = first[idxDelay].params.DelayMinutes
	}
	if keep[idxEncrypt] {
		d.Params.EncryptPassword = first[idxEncrypt].params.EncryptPassword
		if d.Params.EncryptPassword == "" {
			d.Params.EncryptPassword = rules.PasswordSender
		}
	}
	if keep[idxHoldApprover] {
		for _, r := range matched {
			if !r.has(rules.ActionHoldApprover) {
				continue
			}
			for _, a := range r.params.Approvers {
				if !slices.Contains(d.Params.Approvers, a) {
					d.Params.Approvers = append(d.Params.Approvers, a)
				}
			}
			// The strictest matched rule sets the quorum.
			d.Params.ApprovalsRequired = max(d.Params.ApprovalsRequired, r.params.ApprovalsRequired)
		}
	}
	return d
}
