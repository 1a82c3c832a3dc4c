package console

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/spool"
)

// Dashboard bounds: it summarises the last dashDays days from at most
// dashRecords hold records (reports of the newest dashReports of them for
// detector hits) and is recomputed at most once per dashTTL.
const (
	dashDays    = 14
	dashRecords = 20_000
	dashReports = 1_000
	dashSpool   = 200_000
	dashTTL     = time.Minute
	dashTop     = 8
)

// dashboard is the computed summary; charts are rendered SVG.
type dashboard struct {
	At        time.Time
	ByState   map[string]int
	HeldBy    map[string]int
	Days      []string
	PerDay    template.HTML
	Legend    []series
	Rules     template.HTML
	Senders   template.HTML
	Domains   template.HTML
	Detectors template.HTML
	Records   int
	Capped    bool
	Empty     bool
	// Shadow compares shadow and live rules over the window (nil
	// without stored reports).
	Shadow *shadowCompare
}

func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := h.newPage(r, rc, "dash.title", "dash")
	dash, err := h.dashboard(r.Context(), d.Lang)
	if err != nil {
		h.log.Error("dashboard", "err", err)
		d.Error = "error.internal"
	}
	d.D = dash
	h.render(w, http.StatusOK, "dashboard", d)
}

func (h *Handler) dashboard(ctx context.Context, lang string) (*dashboard, error) {
	h.dashMu.Lock()
	defer h.dashMu.Unlock()
	now := h.now()
	if d := h.dash[lang]; d != nil && now.Sub(d.At) >= 0 && now.Sub(d.At) < dashTTL {
		return d, nil
	}
	d, err := h.computeDashboard(ctx, now, lang)
	if err != nil {
		return nil, err
	}
	h.dash[lang] = d
	return d, nil
}

func (h *Handler) computeDashboard(ctx context.Context, now time.Time, lang string) (*dashboard, error) {
	d := &dashboard{At: now}
	counts, err := h.hold.Counts(ctx)
	if err == nil && h.shared != nil {
		counts, err = h.sharedCounts(ctx, counts)
	}
	if err != nil {
		return nil, err
	}
	d.ByState, d.HeldBy = map[string]int{}, map[string]int{}
	for k, v := range counts.ByState {
		d.ByState[string(k)] = v
	}
	for k, v := range counts.HeldByKind {
		d.HeldBy[string(k)] = v
	}
	today := time.Date(now.In(h.loc).Year(), now.In(h.loc).Month(), now.In(h.loc).Day(), 0, 0, 0, 0, h.loc)
	from := today.AddDate(0, 0, -(dashDays - 1))
	dayIndex := func(t time.Time) int {
		if t.Before(from) {
			return -1
		}
		i := int(t.In(h.loc).Sub(from).Hours() / 24)
		if i >= dashDays {
			return -1
		}
		return i
	}
	for i := range dashDays {
		d.Days = append(d.Days, from.AddDate(0, 0, i).Format("01/02"))
	}
	held, released, rejected, delivered := make([]int, dashDays), make([]int, dashDays), make([]int, dashDays), make([]int, dashDays)
	byRule, bySender, byDomain, byDet := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var recent []string
	add := func(rec *hold.Record) {
		d.Records++
		if i := dayIndex(rec.CreatedAt); i >= 0 {
			held[i]++
		}
		if i := dayIndex(rec.DecidedAt); i >= 0 {
			switch rec.State {
			case hold.StateReleased:
				released[i]++
			case hold.StateRejected:
				rejected[i]++
			}
		}
		for _, ru := range rec.Decision.Rules {
			byRule[ru]++
		}
		if rec.Sender != "" {
			bySender[rec.Sender]++
		}
		for _, dom := range rec.Recipients.Domains {
			if !h.intern[dom] {
				byDomain[dom]++
			}
		}
	}
	countDetectors := func(report []byte) {
		for _, det := range reportDetectors(report) {
			if h.cat.has("det." + det) {
				det = h.cat.T(lang, "det."+det)
			}
			byDet[det]++
		}
	}
	if h.shared != nil {
		// Every node's holds, from the shared store.
		recs, err := h.shared.RecordsSince(ctx, from, dashRecords, dashReports)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			add(rec)
			countDetectors(rec.Report)
		}
	} else {
		p := hold.Page{Limit: 500}
		for d.Records < dashRecords {
			res, err := h.hold.List(ctx, hold.Filter{From: from}, p)
			if err != nil {
				return nil, err
			}
			for _, rec := range res.Records {
				add(rec)
				if len(recent) < dashReports {
					recent = append(recent, rec.ID)
				}
			}
			if res.Next == "" {
				break
			}
			p.Cursor = res.Next
		}
	}
	d.Capped = d.Records >= dashRecords
	for _, id := range recent {
		full, err := h.hold.Get(ctx, id)
		if err != nil {
			continue
		}
		countDetectors(full.Report)
	}
	if h.spool != nil {
		seen := 0
		err := h.spool.ForEach(func(rec *spool.Record) bool {
			seen++
			if rec.State == spool.StateDelivered {
				if i := dayIndex(rec.FinishedAt); i >= 0 {
					delivered[i]++
				}
			}
			return seen < dashSpool
		})
		if err != nil {
			return nil, err
		}
	}
	d.Legend = []series{
		{Name: h.cat.T(lang, "dash.s_held"), Color: seriesColors[0], Values: held},
		{Name: h.cat.T(lang, "state.released"), Color: seriesColors[1], Values: released},
		{Name: h.cat.T(lang, "state.rejected"), Color: seriesColors[2], Values: rejected},
		{Name: h.cat.T(lang, "state.delivered"), Color: seriesColors[3], Values: delivered},
	}
	d.PerDay = stackedBars(d.Days, d.Legend, h.cat.T(lang, "dash.per_day"))
	d.Rules = hbars(top(byRule, dashTop), seriesColors[0], h.cat.T(lang, "dash.rules"))
	d.Senders = hbars(top(bySender, dashTop), seriesColors[4], h.cat.T(lang, "dash.senders"))
	d.Domains = hbars(top(byDomain, dashTop), seriesColors[5], h.cat.T(lang, "dash.domains"))
	d.Detectors = hbars(top(byDet, dashTop), seriesColors[2], h.cat.T(lang, "dash.detectors"))
	d.Empty = d.Records == 0
	if d.Shadow, err = h.compareShadow(ctx, from); err != nil {
		return nil, err
	}
	return d, nil
}

// reportDetectors lists the distinct detectors with findings in a report.
func reportDetectors(report []byte) []string {
	var rep rules.Report
	if len(report) == 0 || json.Unmarshal(report, &rep) != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range rep.Findings {
		if !seen[f.Detector] {
			seen[f.Detector] = true
			out = append(out, f.Detector)
		}
	}
	return out
}

// top returns the n largest entries, ties by key.
func top(m map[string]int, n int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
