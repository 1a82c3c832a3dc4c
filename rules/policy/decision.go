package policy

import "github.com/sendguard/sendguard/rules"

// Reason explains a rule's decision to the sender, in Japanese and English.
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
	EncryptPassword string `yaml:"encrypt_password" json:"encrypt_password,omitempty"`
	// Approvers are the addresses asked to approve a hold_approver message.
	Approvers []string `yaml:"approvers" json:"approvers,omitempty"`
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

// actionOrder is the fixed order of Decision.Actions; holdRank orders the
// hold kinds, strongest first.
var (
	actionOrder = []string{
		rules.ActionReject, rules.ActionHoldReview, rules.ActionHoldApprover, rules.ActionHoldSender,
		rules.ActionDelay, rules.ActionBcc, rules.ActionEncrypt, rules.ActionLink, rules.ActionDeliver,
	}
	holdKinds = []string{rules.ActionHoldReview, rules.ActionHoldApprover, rules.ActionHoldSender, rules.ActionDelay}
)

func isKnownAction(a string) bool {
	for _, k := range actionOrder {
		if k == a {
			return true
		}
	}
	return false
}

func isHold(a string) bool {
	for _, k := range holdKinds {
		if k == a {
			return true
		}
	}
	return false
}

// combine merges the contributions of the matched rules (in order) following
// the semantics in the package doc.
func combine(matched []*rule) Decision {
	d := Decision{Actions: []string{}, Rules: []string{}, Reasons: []Reason{}}
	if len(matched) == 0 {
		d.Actions = append(d.Actions, rules.ActionDeliver)
		return d
	}
	var (
		present   = map[string]*rule{} // action → first rule contributing it
		transform string               // encrypt or link, first contributed
	)
	for _, r := range matched {
		d.Rules = append(d.Rules, r.name)
		if r.reason.JA != "" || r.reason.EN != "" {
			d.Reasons = append(d.Reasons, r.reason)
		}
		for _, a := range r.actions {
			if _, ok := present[a]; !ok {
				present[a] = r
			}
			if transform == "" && (a == rules.ActionEncrypt || a == rules.ActionLink) {
				transform = a
			}
		}
	}
	keep := map[string]bool{}
	switch {
	case present[rules.ActionReject] != nil:
		keep[rules.ActionReject] = true
	default:
		for _, h := range holdKinds {
			if present[h] != nil {
				keep[h] = true
				break
			}
		}
		keep[rules.ActionBcc] = present[rules.ActionBcc] != nil
		if transform != "" {
			keep[transform] = true
		}
		if len(trueKeys(keep)) == 0 {
			keep[rules.ActionDeliver] = true
		}
	}
	for _, a := range actionOrder {
		if keep[a] {
			d.Actions = append(d.Actions, a)
		}
	}
	if keep[rules.ActionDelay] {
		d.Params.DelayMinutes = present[rules.ActionDelay].params.DelayMinutes
	}
	if keep[rules.ActionEncrypt] {
		d.Params.EncryptPassword = present[rules.ActionEncrypt].params.EncryptPassword
		if d.Params.EncryptPassword == "" {
			d.Params.EncryptPassword = PasswordSender
		}
	}
	if keep[rules.ActionHoldApprover] {
		seen := map[string]bool{}
		for _, r := range matched {
			for _, a := range r.params.Approvers {
				if !seen[a] && r.has(rules.ActionHoldApprover) {
					seen[a] = true
					d.Params.Approvers = append(d.Params.Approvers, a)
				}
			}
		}
	}
	return d
}

func trueKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	return out
}
