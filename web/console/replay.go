package console

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/policy"
)

// ReportScanner reads the stored analysis reports (reports.Bolt): the
// replay page runs a candidate policy over them and the dashboard
// compares shadow and live rules.
type ReportScanner interface {
	Scan(ctx context.Context, since time.Time, fn func(*reports.Report) error) (corrupt int, err error)
	ScanBack(ctx context.Context, since time.Time, fn func(*reports.Report) error) (corrupt int, err error)
}

// Replay bounds: a candidate file, the windows offered, one replay at a
// time (100,000 reports take about a second) under a deadline.
const (
	maxCandidate  = 256 << 10
	replayTimeout = time.Minute
)

var replayWindows = []int{1, 7, 14, 30}

type replayView struct {
	Windows []int
	Days    int
	Source  string // the candidate as submitted, shown again in the form
	Problem string // why the candidate did not load (line-numbered)
	Res     *reports.Result
	Plot    template.HTML
	Legend  []series
}

func (h *Handler) replayPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.reports == nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	h.showReplay(w, r, rc, http.StatusOK, &replayView{Days: 14}, "")
}

func (h *Handler) showReplay(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, v *replayView, errKey string) {
	d := h.newPage(r, rc, "replay.title", "replay")
	d.Error = errKey
	v.Windows = replayWindows
	d.D = v
	h.render(w, status, "replay", d)
}

// replayRun runs the candidate (a pasted text or an uploaded file) over
// the stored reports. Nothing is stored or enforced; examples show masked
// senders only.
func (h *Handler) replayRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.reports == nil {
		h.fail(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	v := &replayView{Days: 14}
	if n, err := strconv.Atoi(r.PostFormValue("days")); err == nil {
		for _, d := range replayWindows {
			if d == n {
				v.Days = n
			}
		}
	}
	src := r.PostFormValue("policy")
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, maxCandidate+1))
		f.Close()
		if err != nil {
			h.showReplay(w, r, rc, http.StatusBadRequest, v, "error.bad_request")
			return
		}
		src = string(b)
	}
	v.Source = src
	if strings.TrimSpace(src) == "" {
		h.showReplay(w, r, rc, http.StatusBadRequest, v, "replay.no_policy")
		return
	}
	if len(src) > maxCandidate {
		h.showReplay(w, r, rc, http.StatusRequestEntityTooLarge, v, "replay.too_large")
		return
	}
	pol, err := policy.Parse("candidate.yaml", []byte(src))
	if err != nil {
		v.Problem = err.Error()
		h.showReplay(w, r, rc, http.StatusUnprocessableEntity, v, "replay.bad_policy")
		return
	}
	select {
	case h.replaySem <- struct{}{}:
		defer func() { <-h.replaySem }()
	default:
		h.showReplay(w, r, rc, http.StatusServiceUnavailable, v, "replay.busy")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), replayTimeout)
	defer cancel()
	now := h.now()
	since := now.Add(-time.Duration(v.Days) * 24 * time.Hour)
	rp := reports.NewReplay(pol, since, now)
	rp.SetLocation(h.loc)
	if _, err := h.reports.Scan(ctx, since, func(rep *reports.Report) error { rp.Add(rep); return nil }); err != nil {
		h.log.Error("replay", "err", err)
		key := "error.internal"
		if errors.Is(err, context.DeadlineExceeded) {
			key = "replay.timeout"
		}
		h.showReplay(w, r, rc, http.StatusInternalServerError, v, key)
		return
	}
	res := rp.Result()
	v.Res = &res
	lang := h.lang(r, rc)
	labels := make([]string, len(res.PerDay))
	old, cand := make([]int, len(res.PerDay)), make([]int, len(res.PerDay))
	for i, dh := range res.PerDay {
		labels[i], old[i], cand[i] = dh.Day.Format("01/02"), dh.OldHolds, dh.NewHolds
	}
	v.Legend = []series{
		{Name: h.cat.T(lang, "replay.s_live"), Color: seriesColors[0], Values: old},
		{Name: h.cat.T(lang, "replay.s_candidate"), Color: seriesColors[4], Values: cand},
	}
	v.Plot = pairedBars(labels, v.Legend, h.cat.T(lang, "replay.per_day"))
	h.showReplay(w, r, rc, http.StatusOK, v, "")
}
