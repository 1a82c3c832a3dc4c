package console

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/reports"
)

// The dashboard's shadow-vs-live table reads at most shadowScan stored
// reports of the dashboard's window, newest first.
const shadowScan = 200_000

// ruleMatches is one rule's matches over the window: live (it decided or
// contributed) or in shadow mode (recorded only), and how many of the
// shadow matches would have stopped mail the live policy let through.
type ruleMatches struct {
	Rule      string
	Live      int
	Shadow    int
	WouldStop int
}

type shadowCompare struct {
	Rows    []ruleMatches
	Reports int
	Capped  bool
}

// compareShadow counts live and shadow matches per rule from the stored
// reports since from.
func (h *Handler) compareShadow(ctx context.Context, from time.Time) (*shadowCompare, error) {
	if h.reports == nil {
		return nil, nil
	}
	sc := &shadowCompare{}
	byRule := map[string]*ruleMatches{}
	var order []string
	get := func(name string) *ruleMatches {
		m := byRule[name]
		if m == nil {
			m = &ruleMatches{Rule: name}
			byRule[name] = m
			order = append(order, name)
		}
		return m
	}
	_, err := h.reports.ScanBack(ctx, from, func(r *reports.Report) error {
		if sc.Reports >= shadowScan {
			sc.Capped = true
			return reports.ErrStop
		}
		sc.Reports++
		for _, name := range r.Rules {
			get(name).Live++
		}
		for _, m := range r.Shadow {
			rm := get(m.Rule)
			rm.Shadow++
			if reports.WouldStop(r.Actions, m.Actions) {
				rm.WouldStop++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range order {
		if m := byRule[name]; m.Shadow > 0 {
			sc.Rows = append(sc.Rows, *m)
		}
	}
	// then the live rules, most matches first
	var live []ruleMatches
	for _, name := range order {
		if m := byRule[name]; m.Shadow == 0 {
			live = append(live, *m)
		}
	}
	sortMatches(live)
	sc.Rows = append(sc.Rows, live...)
	return sc, nil
}

func sortMatches(ms []ruleMatches) {
	slices.SortFunc(ms, func(a, b ruleMatches) int { return cmp.Or(b.Live-a.Live, strings.Compare(a.Rule, b.Rule)) })
}

// ShadowMatches are the shadow rules that matched the message, from its
// audit events ("RULE=ACTIONS"), for the badge on the message page.
func (v messageView) ShadowMatches() []string {
	var out []string
	for _, e := range v.Events {
		if e.Action == reports.AuditShadowMatch {
			out = append(out, strings.ReplaceAll(e.Reason, "=", " → "))
		}
	}
	return out
}
