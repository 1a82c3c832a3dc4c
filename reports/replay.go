package reports

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// maxExamples is how many messages a change lists.
const maxExamples = 3

// Replay runs a candidate policy over stored reports and compares its
// decisions with those taken live. Add each report, then read Result.
// A Replay is not safe for concurrent use.
type Replay struct {
	pol     *policy.Policy
	actions map[string][]string // the candidate's rules' actions
	since   time.Time
	now     time.Time
	res     Result
	changes map[changeKey]*Change
	shadow  map[string]*ShadowCount
	loc     *time.Location
	perDay  map[time.Time]*DayHolds
}

// Result is a replay's summary.
type Result struct {
	Reports int       `json:"reports"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Days    float64   `json:"days"`
	// Changed counts messages whose outcome differs.
	Changed int `json:"changed"`
	// Holds counts messages held (a hold kind or delay) live and under the
	// candidate; the per-day figures divide by Days (at least one day).
	OldHolds       int     `json:"old_holds"`
	NewHolds       int     `json:"new_holds"`
	OldHoldsPerDay float64 `json:"old_holds_per_day"`
	NewHoldsPerDay float64 `json:"new_holds_per_day"`
	// Changes are per rule and transition, most messages first.
	Changes []*Change `json:"changes"`
	// Errors counts reports on which a candidate condition failed.
	Errors int `json:"errors"`
	// Shadow counts the live shadow rules' matches over the same
	// reports, so a shadow rule can be judged beside the candidate.
	Shadow []ShadowCount `json:"shadow"`
	// PerDay are the holds of each day with reports, oldest first (days
	// of the replay's time zone, UTC unless SetLocation).
	PerDay []DayHolds `json:"per_day"`
}

// DayHolds are one day's messages held live and by the candidate.
type DayHolds struct {
	Day      time.Time `json:"day"`
	Reports  int       `json:"reports"`
	OldHolds int       `json:"old_holds"`
	NewHolds int       `json:"new_holds"`
}

// ShadowCount is how often a shadow rule matched live.
type ShadowCount struct {
	Rule    string `json:"rule"`
	Matches int    `json:"matches"`
	// Holds counts the matches that would have held or rejected a
	// message the live decision let through (WouldStop).
	Holds int `json:"holds"`
}

// Change is a group of messages whose outcome went From → To, attributed
// to one rule.
type Change struct {
	// Rule is the candidate rule that decided the new outcome or, when the
	// candidate lets the message through untouched, the rule that decided
	// it live (Live true).
	Rule     string    `json:"rule"`
	Live     bool      `json:"live,omitempty"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Count    int       `json:"count"`
	Examples []Example `json:"examples"`
}

// Example identifies one changed message, its sender masked.
type Example struct {
	QueueID string    `json:"queue_id"`
	Sender  string    `json:"sender"`
	Time    time.Time `json:"time"`
}

type changeKey struct {
	rule     string
	live     bool
	from, to string
}

// NewReplay prepares a replay of pol over the reports accepted between
// since and now.
func NewReplay(pol *policy.Policy, since, now time.Time) *Replay {
	rp := &Replay{pol: pol, since: since, now: now, actions: map[string][]string{}, changes: map[changeKey]*Change{}, shadow: map[string]*ShadowCount{},
		loc: time.UTC, perDay: map[time.Time]*DayHolds{}}
	for _, r := range pol.Rules() {
		rp.actions[r.Name] = r.Actions
	}
	return rp
}

// SetLocation sets the time zone of Result.PerDay's days.
func (rp *Replay) SetLocation(loc *time.Location) {
	if loc != nil {
		rp.loc = loc
	}
}

// Add replays one report.
func (rp *Replay) Add(r *Report) {
	rp.res.Reports++
	if rp.res.Since.IsZero() || r.Time.Before(rp.res.Since) {
		rp.res.Since = r.Time
	}
	d := rp.pol.Evaluate(r.ToRules())
	if len(d.Errors) > 0 {
		rp.res.Errors++
	}
	from, to := Outcome(r.Actions), Outcome(d.Actions)
	for _, m := range r.Shadow {
		sc := rp.shadow[m.Rule]
		if sc == nil {
			sc = &ShadowCount{Rule: m.Rule}
			rp.shadow[m.Rule] = sc
		}
		sc.Matches++
		if WouldStop(r.Actions, m.Actions) {
			sc.Holds++
		}
	}
	t := r.Time.In(rp.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, rp.loc)
	dh := rp.perDay[day]
	if dh == nil {
		dh = &DayHolds{Day: day}
		rp.perDay[day] = dh
	}
	dh.Reports++
	if isHold(from) {
		rp.res.OldHolds++
		dh.OldHolds++
	}
	if isHold(to) {
		rp.res.NewHolds++
		dh.NewHolds++
	}
	if from == to {
		return
	}
	rp.res.Changed++
	k := changeKey{from: from, to: to}
	if rule := rp.decidedBy(d, to); rule != "" {
		k.rule = rule
	} else {
		k.rule, k.live = cmp.Or(strings.Join(r.Rules, ","), "-"), true
	}
	c := rp.changes[k]
	if c == nil {
		c = &Change{Rule: k.rule, Live: k.live, From: from, To: to}
		rp.changes[k] = c
	}
	c.Count++
	if len(c.Examples) < maxExamples {
		c.Examples = append(c.Examples, Example{QueueID: r.QueueID, Sender: MaskAddress(r.Sender), Time: r.Time})
	}
}

// decidedBy is the first rule of d contributing outcome's main action.
func (rp *Replay) decidedBy(d policy.Decision, outcome string) string {
	main, _, _ := strings.Cut(outcome, "+")
	for _, name := range d.Rules {
		if slices.Contains(rp.actions[name], main) {
			return name
		}
	}
	if len(d.Rules) > 0 && main != rules.ActionDeliver {
		return d.Rules[0]
	}
	return ""
}

// Result returns the summary so far.
func (rp *Replay) Result() Result {
	res := rp.res
	if !rp.since.IsZero() {
		res.Since = rp.since
	}
	res.Until = rp.now
	if !res.Since.IsZero() {
		res.Days = rp.now.Sub(res.Since).Hours() / 24
	}
	days := max(res.Days, 1)
	res.OldHoldsPerDay = float64(res.OldHolds) / days
	res.NewHoldsPerDay = float64(res.NewHolds) / days
	res.Shadow = make([]ShadowCount, 0, len(rp.shadow))
	for _, sc := range rp.shadow {
		res.Shadow = append(res.Shadow, *sc)
	}
	slices.SortFunc(res.Shadow, func(a, b ShadowCount) int { return strings.Compare(a.Rule, b.Rule) })
	res.PerDay = make([]DayHolds, 0, len(rp.perDay))
	for _, dh := range rp.perDay {
		res.PerDay = append(res.PerDay, *dh)
	}
	slices.SortFunc(res.PerDay, func(a, b DayHolds) int { return a.Day.Compare(b.Day) })
	res.Changes = make([]*Change, 0, len(rp.changes))
	for _, c := range rp.changes {
		res.Changes = append(res.Changes, c)
	}
	slices.SortFunc(res.Changes, func(a, b *Change) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Rule, b.Rule), strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	return res
}

// Outcome names what a decision does to a message: reject or the hold
// kind when it stops the message, otherwise its delivery actions joined
// with "+" ("deliver", "bcc+encrypt").
func Outcome(actions []string) string {
	for _, a := range actions {
		if a == rules.ActionReject || isHold(a) {
			return a
		}
	}
	if len(actions) == 0 {
		return rules.ActionDeliver
	}
	return strings.Join(actions, "+")
}

// WouldStop reports whether a shadow rule's actions would have held or
// rejected a message that the live actions let through.
func WouldStop(live, shadow []string) bool {
	from, would := Outcome(live), Outcome(shadow)
	return !isHold(from) && from != rules.ActionReject && (isHold(would) || would == rules.ActionReject)
}

func isHold(a string) bool {
	switch a {
	case rules.ActionHoldReview, rules.ActionHoldApprover, rules.ActionHoldSender, rules.ActionDelay:
		return true
	}
	return false
}

// MaskAddress keeps an address's first character and domain:
// "t***@example.com".
func MaskAddress(addr string) string {
	local, dom, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		if addr == "" {
			return "<>"
		}
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + dom
}
