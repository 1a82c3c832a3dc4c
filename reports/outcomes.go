package reports

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
)

// AuditLog is the part of the hold store's audit log that outcome
// statistics read: holds' creation (the rules that held) and endings.
type AuditLog interface {
	EventsRange(ctx context.Context, f hold.EventFilter, p hold.EventPage) ([]hold.Event, uint64, error)
}

// AuditShadowMatch is the audit action recorded for each shadow rule that
// matched an accepted message; its reason is "RULE=ACTION+ACTION".
const AuditShadowMatch = "shadow_match"

// WeeksSince is the Monday 00:00 in loc starting the week weeks-1 weeks
// before now's: the start of `policy stats -weeks N` and the console's
// outcomes page.
func WeeksSince(now time.Time, weeks int, loc *time.Location) time.Time {
	return weekOf(now, loc).AddDate(0, 0, -7*(weeks-1))
}

// Outcomes of a hold, as its ending tells them.
const (
	OutcomeCancelled = "cancelled" // the sender withdrew it: a likely catch
	OutcomeEdited    = "edited"    // the sender sent it changed (Bcc, zip): a likely catch
	OutcomeConfirmed = "confirmed" // the sender sent it unchanged: possible noise
	OutcomeReleased  = "released"  // an approver or reviewer let it go
	OutcomeRejected  = "rejected"  // an approver or reviewer stopped it
	OutcomeExpired   = "expired"   // nobody decided
	OutcomeElapsed   = "elapsed"   // a delay ran out
	OutcomeDeleted   = "deleted"   // an admin removed it
	OutcomePending   = "pending"   // still held
)

// RuleWeek is what became of the holds one rule took part in, in one week
// (weeks start on Monday in the caller's time zone).
type RuleWeek struct {
	Rule   string         `json:"rule"`
	Week   time.Time      `json:"week"`
	Holds  int            `json:"holds"`
	Counts map[string]int `json:"counts"`
	// CatchRate is (cancelled + edited + rejected) and NoiseRate
	// (confirmed + released) over the holds someone decided.
	CatchRate float64 `json:"catch_rate"`
	NoiseRate float64 `json:"noise_rate"`
}

// maxScanPages bounds one statistics run (1,000 events a page).
const maxScanPages = 10_000

// Outcomes reads the audit log from since and returns, per rule and week,
// what became of the holds created since then. A hold counts for every
// rule of the decision that held it. The audit log is never purged, so
// the statistics outlive the hold records.
func Outcomes(ctx context.Context, log AuditLog, since time.Time, loc *time.Location) ([]RuleWeek, error) {
	type held struct {
		rules   []string
		week    time.Time
		outcome string
	}
	byID := map[string]*held{}
	var order []string
	var after uint64
	for range maxScanPages {
		evs, next, err := log.EventsRange(ctx, hold.EventFilter{From: since}, hold.EventPage{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for i := range evs {
			e := &evs[i]
			if e.Action == hold.ActionHold {
				if _, dup := byID[e.MessageID]; !dup && e.MessageID != "" {
					byID[e.MessageID] = &held{rules: holdRules(e.Reason), week: weekOf(e.Time, loc), outcome: OutcomePending}
					order = append(order, e.MessageID)
				}
				continue
			}
			if h := byID[e.MessageID]; h != nil && h.outcome == OutcomePending {
				if o := outcomeOf(e); o != "" {
					h.outcome = o
				}
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	type key struct {
		rule string
		week time.Time
	}
	acc := map[key]*RuleWeek{}
	for _, id := range order {
		h := byID[id]
		for _, r := range h.rules {
			k := key{r, h.week}
			rw := acc[k]
			if rw == nil {
				rw = &RuleWeek{Rule: r, Week: h.week, Counts: map[string]int{}}
				acc[k] = rw
			}
			rw.Holds++
			rw.Counts[h.outcome]++
		}
	}
	out := make([]RuleWeek, 0, len(acc))
	for _, rw := range acc {
		c := rw.Counts
		catch := c[OutcomeCancelled] + c[OutcomeEdited] + c[OutcomeRejected]
		noise := c[OutcomeConfirmed] + c[OutcomeReleased]
		if decided := catch + noise; decided > 0 {
			rw.CatchRate = float64(catch) / float64(decided)
			rw.NoiseRate = float64(noise) / float64(decided)
		}
		out = append(out, *rw)
	}
	slices.SortFunc(out, func(a, b RuleWeek) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), a.Week.Compare(b.Week))
	})
	return out, nil
}

// holdRules reads the rules from a hold event's reason (the decision's
// rules, comma-separated; a failed rewrite names no rule).
func holdRules(reason string) []string {
	if reason == "" || strings.HasPrefix(reason, "rewrite failed") || strings.ContainsAny(reason, " :") {
		return []string{"(no rule)"}
	}
	return strings.Split(reason, ",")
}

// outcomeOf classifies an event that ends a hold, or returns "".
func outcomeOf(e *hold.Event) string {
	switch e.To {
	case hold.StateCancelled:
		return OutcomeCancelled
	case hold.StateRejected:
		return OutcomeRejected
	case hold.StateExpired:
		return OutcomeExpired
	case hold.StateDeleted:
		return OutcomeDeleted
	case hold.StateReleased:
		switch {
		case e.Actor.Role == string(hold.RoleSender) && e.Mode != "" && e.Mode != hold.ModeAsIs:
			return OutcomeEdited
		case e.Actor.Role == string(hold.RoleSender):
			return OutcomeConfirmed
		case e.Actor == hold.System:
			return OutcomeElapsed
		}
		return OutcomeReleased
	}
	return ""
}

// weekOf is the Monday 00:00 starting t's week in loc.
func weekOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	d := (int(t.Weekday()) + 6) % 7
	y, m, day := t.Date()
	return time.Date(y, m, day-d, 0, 0, 0, 0, loc)
}
