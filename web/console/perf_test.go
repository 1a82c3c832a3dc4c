package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// seedMany holds n records straight in the hold store (no spool bodies),
// 2,000 per transaction: 50 senders, 200 domains, four kinds, every 7th
// record with a credit_card finding, one record a minute going back.
func seedMany(tb testing.TB, e *env, n int) {
	tb.Helper()
	start := e.clock.Now().Add(-time.Duration(n) * time.Minute)
	kinds := []hold.Kind{hold.KindReview, hold.KindSender, hold.KindApprover, hold.KindReview}
	card, _ := json.Marshal(rules.Report{Findings: []rules.Finding{{Detector: "credit_card", Count: 1, Location: "body", Samples: []string{"4111********1111"}}}})
	plain, _ := json.Marshal(rules.Report{Findings: []rules.Finding{{Detector: "jp_phone", Count: 2, Location: "body", Samples: []string{"03-****-1234"}}}})
	for i := 0; i < n; {
		err := e.sp.DB().Update(func(tx *bbolt.Tx) error {
			for end := min(i+2000, n); i < end; i++ {
				rep := plain
				if i%7 == 0 {
					rep = card
				}
				dom := fmt.Sprintf("partner%03d.co.jp", i%200)
				r := &hold.Record{
					ID: fmt.Sprintf("MSG%08d", i), Kind: kinds[i%4], CreatedAt: start.Add(time.Duration(i) * time.Minute),
					Sender: fmt.Sprintf("user%02d@example.com", i%50), Subject: fmt.Sprintf("見積書 %d", i),
					Recipients: hold.RecipientSummary{Total: 2, External: 1, Domains: []string{"example.com", dom}, Addresses: []string{"x@" + dom}},
					Decision:   hold.Decision{Actions: []string{"hold_review"}, Rules: []string{[]string{"pii-external", "lookalike", "mass-exposure"}[i%3]}},
					Report:     rep,
				}
				if err := e.hold.CreateTx(tx, r, hold.System, "policy"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// timeIt returns the median of runs of fn.
func timeIt(runs int, fn func()) time.Duration {
	ds := make([]time.Duration, runs)
	for i := range ds {
		t0 := time.Now()
		fn()
		ds[i] = time.Since(t0)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[runs/2]
}

// TestQueueAt100k checks that the queue page and filtered queries answer
// within 100 ms with 100,000 held records, measured over loopback HTTP
// (median of 5), and logs each against hold.List of the same filter as
// a baseline.
func TestQueueAt100k(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 records")
	}
	n := 100_000
	if raceEnabled {
		n = 10_000 // seeding under the race detector is slow; the figures come from the normal run
	}
	e := newEnv(t, nil)
	e.addUser("vera", RoleViewer)
	t0 := time.Now()
	seedMany(t, e, n)
	t.Logf("seeded %d records in %v", n, time.Since(t0).Round(time.Millisecond))
	c := e.client()
	c.login("vera")
	day := func(d int) string { return e.clock.Now().AddDate(0, 0, d).Format("2006-01-02") }
	limit := 100 * time.Millisecond
	if raceEnabled {
		limit *= 10 // the race detector slows everything about tenfold
	}
	for _, tc := range []struct {
		query string
		f     hold.Filter
		det   bool
	}{
		{"", hold.Filter{State: hold.StateHeld}, false},
		{"&sender=user07@example.com", hold.Filter{State: hold.StateHeld, Sender: "user07@example.com"}, false},
		{"&domain=partner043.co.jp&kind=review", hold.Filter{State: hold.StateHeld, RecipientDomain: "partner043.co.jp", Kind: hold.KindReview}, false},
		{"&rule=lookalike&sender=user10@example.com&from=" + day(-10) + "&to=" + day(-3), hold.Filter{Rule: "lookalike", Sender: "user10@example.com"}, false},
		{"&sort=oldest&kind=approver", hold.Filter{State: hold.StateHeld, Kind: hold.KindApprover}, false},
		{"&detector=credit_card", hold.Filter{State: hold.StateHeld}, true},
		{"&detector=passport", hold.Filter{State: hold.StateHeld}, true}, // no match: the scan budget bounds it
	} {
		var status, rows int
		page := timeIt(5, func() {
			r := c.get("/console/queue?state=held" + tc.query)
			status = r.status
			rows = countRows(r.body)
		})
		base := timeIt(5, func() {
			if _, err := e.hold.List(context.Background(), tc.f, hold.Page{Limit: 50}); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("queue%-70s %3d rows  page %8v  hold.List %8v  ratio %.1f", tc.query, rows, page.Round(10*time.Microsecond),
			base.Round(10*time.Microsecond), float64(page)/float64(max(base, 1)))
		if status != http.StatusOK || (rows == 0 && !strings.Contains(tc.query, "passport")) {
			t.Errorf("%s: status %d, %d rows", tc.query, status, rows)
		}
		// The detector filter reads reports (up to detectorScan per page),
		// so it gets a looser bound than the index-backed filters.
		if lim := limit * map[bool]time.Duration{false: 1, true: 10}[tc.det]; page > lim {
			t.Errorf("%s: %v, want < %v", tc.query, page, lim)
		}
	}
	// The dashboard reads up to dashRecords records and dashReports
	// reports; it is cached for a minute, so only the first view pays.
	e.h.dashMu.Lock()
	clear(e.h.dash)
	e.h.dashMu.Unlock()
	t0 = time.Now()
	if r := c.get("/console/"); r.status != http.StatusOK {
		t.Fatalf("dashboard: %d", r.status)
	}
	cold := time.Since(t0)
	warm := timeIt(5, func() { c.get("/console/") })
	t.Logf("dashboard: first view %v, cached %v", cold.Round(time.Millisecond), warm.Round(10*time.Microsecond))
}

func countRows(body string) int {
	n := 0
	for i := 0; ; n++ {
		j := indexFrom(body, `class="subject"`, i)
		if j < 0 {
			return n
		}
		i = j + 1
	}
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// BenchmarkQueuePage measures the held queue's first page with 100,000
// records: go test -run x -bench QueuePage -benchtime 20x ./web/console
func BenchmarkQueuePage(b *testing.B) {
	e := newEnv(b, nil)
	e.addUser("vera", RoleViewer)
	seedMany(b, e, 100_000)
	c := e.client()
	c.login("vera")
	b.ResetTimer()
	for b.Loop() {
		if r := c.get("/console/queue?state=held&sender=user07@example.com"); r.status != http.StatusOK {
			b.Fatal(r.status)
		}
	}
}
