package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sendguard/sendguard/reports"
)

// outcomeColumns are the endings shown, in the order of `policy stats`.
var outcomeColumns = []string{reports.OutcomeCancelled, reports.OutcomeEdited, reports.OutcomeConfirmed, reports.OutcomeReleased,
	reports.OutcomeRejected, reports.OutcomeExpired, reports.OutcomeElapsed, reports.OutcomeDeleted, reports.OutcomePending}

type outcomesView struct {
	Weeks   int
	Options []int
	Rows    []reports.RuleWeek
	Columns []string
	Catch   template.HTML
	Noise   template.HTML
	Legend  []series
}

// outcomesPage shows, per rule and week, how its holds ended: the numbers
// of `sendguard policy stats` (the same reports.Outcomes over the same
// weeks), with the catch and noise rates' trend per rule.
func (h *Handler) outcomesPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	v := outcomesView{Weeks: 8, Options: []int{4, 8, 12, 26, 52}, Columns: outcomeColumns}
	if n, err := strconv.Atoi(r.URL.Query().Get("weeks")); err == nil && n >= 1 && n <= 520 {
		v.Weeks = n
	}
	d := h.newPage(r, rc, "outcomes.title", "outcomes")
	now := h.now()
	since := reports.WeeksSince(now, v.Weeks, h.loc)
	rows, err := reports.Outcomes(r.Context(), h.auditLog, since, h.loc)
	if err != nil {
		h.log.Error("rule outcomes", "err", err)
		d.Error = "error.internal"
	}
	v.Rows = rows
	var weeks []time.Time
	for wk := since; !wk.After(now); wk = wk.AddDate(0, 0, 7) {
		weeks = append(weeks, wk)
	}
	var ruleNames []string
	for _, row := range rows {
		if !slices.Contains(ruleNames, row.Rule) {
			ruleNames = append(ruleNames, row.Rule)
		}
	}
	labels := make([]string, len(weeks))
	for i, wk := range weeks {
		labels[i] = wk.Format("01/02")
	}
	var catch, noise []line
	for i, name := range ruleNames {
		c, n := line{Name: name, Color: seriesColors[i%len(seriesColors)]}, line{Name: name, Color: seriesColors[i%len(seriesColors)]}
		c.Values, n.Values = make([]float64, len(weeks)), make([]float64, len(weeks))
		c.Has, n.Has = make([]bool, len(weeks)), make([]bool, len(weeks))
		for _, row := range rows {
			if row.Rule != name {
				continue
			}
			if j := slices.IndexFunc(weeks, row.Week.Equal); j >= 0 && row.CatchRate+row.NoiseRate > 0 {
				c.Values[j], c.Has[j] = row.CatchRate*100, true
				n.Values[j], n.Has[j] = row.NoiseRate*100, true
			}
		}
		catch, noise = append(catch, c), append(noise, n)
		v.Legend = append(v.Legend, series{Name: name, Color: c.Color})
	}
	lang := d.Lang
	v.Catch = lineChart(labels, catch, h.cat.T(lang, "outcomes.catch_trend"))
	v.Noise = lineChart(labels, noise, h.cat.T(lang, "outcomes.noise_trend"))
	d.D = v
	h.render(w, http.StatusOK, "outcomes", d)
}

// Pct formats a rate of row as a whole percentage, "-" when nobody
// decided any of its holds (as `policy stats` prints it).
func (v outcomesView) Pct(rate float64, row reports.RuleWeek) string {
	if row.CatchRate+row.NoiseRate == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", rate*100)
}
