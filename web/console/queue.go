package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// detectorScan bounds the records one queue request reads reports of when
// filtering by detector; "continue" resumes where it stopped.
const detectorScan = 2000

// queueQuery is the queue page's filter, sort and page, as in its URL.
type queueQuery struct {
	State, Kind, Rule, Detector, Sender, Domain string
	From, To                                    string // YYYY-MM-DD in the console's zone
	Sort                                        string // "newest" or "oldest"
	Cursor                                      string
	Limit                                       int
}

func parseQueueQuery(q url.Values) queueQuery {
	qq := queueQuery{
		State: q.Get("state"), Kind: q.Get("kind"), Rule: strings.TrimSpace(q.Get("rule")),
		Detector: strings.TrimSpace(q.Get("detector")), Sender: strings.TrimSpace(q.Get("sender")),
		Domain: strings.TrimSpace(q.Get("domain")), From: q.Get("from"), To: q.Get("to"),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"),
	}
	if _, ok := q["state"]; !ok {
		qq.State = string(hold.StateHeld)
	}
	qq.Limit, _ = strconv.Atoi(q.Get("limit"))
	if qq.Limit <= 0 || qq.Limit > 200 {
		qq.Limit = 50
	}
	if qq.Sort != "oldest" {
		qq.Sort = "newest"
	}
	return qq
}

// values encodes the query without its cursor.
func (q queueQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("state", q.State)
	set("kind", q.Kind)
	set("rule", q.Rule)
	set("detector", q.Detector)
	set("sender", q.Sender)
	set("domain", q.Domain)
	set("from", q.From)
	set("to", q.To)
	if q.Sort == "oldest" {
		v.Set("sort", "oldest")
	}
	if q.Limit != 50 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

func (h *Handler) filter(q queueQuery) (hold.Filter, error) {
	f := hold.Filter{
		State: hold.State(q.State), Kind: hold.Kind(q.Kind), Rule: q.Rule,
		Sender: q.Sender, RecipientDomain: q.Domain,
	}
	day := func(s string) (time.Time, error) { return time.ParseInLocation("2006-01-02", s, h.loc) }
	var err error
	if q.From != "" {
		if f.From, err = day(q.From); err != nil {
			return f, err
		}
	}
	if q.To != "" {
		var t time.Time
		if t, err = day(q.To); err != nil {
			return f, err
		}
		f.To = t.AddDate(0, 0, 1) // the "to" day is included
	}
	return f, nil
}

// queueResult is one page of the queue.
type queueResult struct {
	Records []*hold.Record
	Next    string
	Scanned int // records read for a detector filter
}

// list runs the query. Without a detector filter it is one hold.List
// call; with one it reads pages and keeps the records whose report has
// that detector, within detectorScan records.
func (h *Handler) list(r *http.Request, q queueQuery) (queueResult, error) {
	f, err := h.filter(q)
	if err != nil {
		return queueResult{}, errBadQuery
	}
	if h.shared != nil {
		return h.listShared(r, q, f)
	}
	p := hold.Page{Cursor: q.Cursor, Limit: q.Limit, Oldest: q.Sort == "oldest"}
	if q.Detector == "" {
		res, err := h.hold.List(r.Context(), f, p)
		return queueResult{Records: res.Records, Next: res.Next}, err
	}
	var out queueResult
	for out.Scanned < detectorScan {
		p.Limit = min(q.Limit-len(out.Records), detectorScan-out.Scanned, 500)
		if p.Limit <= 0 {
			break
		}
		res, err := h.hold.List(r.Context(), f, p)
		if err != nil {
			return out, err
		}
		out.Scanned += len(res.Records)
		for _, rec := range res.Records {
			full, err := h.hold.Get(r.Context(), rec.ID)
			if err != nil {
				continue // purged meanwhile
			}
			if hasDetector(full.Report, q.Detector) {
				out.Records = append(out.Records, rec)
			}
		}
		out.Next = res.Next
		if res.Next == "" || len(out.Records) == q.Limit {
			break
		}
		p.Cursor = res.Next
	}
	return out, nil
}

var errBadQuery = errors.New("bad query")

func hasDetector(report json.RawMessage, det string) bool {
	if len(report) == 0 {
		return false
	}
	var rep rules.Report
	if json.Unmarshal(report, &rep) != nil {
		return false
	}
	for _, f := range rep.Findings {
		if f.Detector == det {
			return true
		}
	}
	return false
}

type queueView struct {
	Q        queueQuery
	Rows     []*hold.Record
	Next     string // URL of the next page
	First    string // URL of the first page
	Scanned  int
	Counts   hold.Counts
	States   []stateTab
	Kinds    []string
	Rules    []string
	Dets     []string
	Actions  []string
	Elapsed  string
	Truncate bool // a detector scan stopped at its budget
}

type stateTab struct {
	State, URL string
	Count      int
	Current    bool
}

var detectorNames = []string{"mynumber", "corporate_number", "credit_card", "jp_phone", "email_address",
	"postal_code", "jp_address", "bank_account", "passport", "drivers_license", "pension_number", "residence_card",
	"juminhyo_code", "health_insurance", "keyword", rules.DetectorUnscannable}

func (h *Handler) queuePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.queueIDSearch(w, r) {
		return
	}
	start := time.Now()
	q := parseQueueQuery(r.URL.Query())
	d := h.newPage(r, rc, "queue.title", "queue")
	res, err := h.list(r, q)
	if err != nil {
		if errors.Is(err, errBadQuery) || errors.Is(err, hold.ErrInvalid) {
			d.Error = "queue.bad_filter"
		} else {
			h.log.Error("list queue", "err", err)
			d.Error = "error.internal"
		}
	}
	counts, err := h.hold.Counts(r.Context())
	if err == nil && h.shared != nil {
		counts, err = h.sharedCounts(r.Context(), counts)
	}
	if err != nil {
		h.log.Error("count queue", "err", err)
	}
	v := queueView{Q: q, Rows: res.Records, Scanned: res.Scanned, Counts: counts, Dets: detectorNames}
	v.Kinds = []string{"review", "sender", "approver", "delay"}
	v.Actions = bulkActions
	for _, ri := range h.shown.Load().rules {
		v.Rules = append(v.Rules, ri.Name)
	}
	for _, st := range []hold.State{hold.StateHeld, hold.StateReleased, hold.StateRejected, hold.StateCancelled, hold.StateExpired} {
		qq := q
		qq.State = string(st)
		v.States = append(v.States, stateTab{State: string(st), Count: counts.ByState[st],
			URL: h.prefix + "queue?" + qq.values().Encode(), Current: q.State == string(st)})
	}
	all := q
	all.State = ""
	v.States = append(v.States, stateTab{State: "all", URL: h.prefix + "queue?" + all.values().Encode(), Current: q.State == ""})
	base := q.values()
	v.First = h.prefix + "queue?" + base.Encode()
	if res.Next != "" {
		base.Set("cursor", res.Next)
		v.Next = h.prefix + "queue?" + base.Encode()
		v.Truncate = q.Detector != "" && len(res.Records) < q.Limit
	}
	if done, err := strconv.Atoi(r.URL.Query().Get("done")); err == nil {
		failed, _ := strconv.Atoi(r.URL.Query().Get("failed"))
		d.Notice, d.NoticeArgs = "queue.done", []any{done, failed}
	}
	v.Elapsed = time.Since(start).Round(100 * time.Microsecond).String()
	d.D = v
	h.render(w, http.StatusOK, "queue", d)
}
