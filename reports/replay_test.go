package reports

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// livePolicy decided the stored traffic; candidate tightens one rule,
// drops another and adds a third.
const livePolicy = `rules:
  - name: pii-bulk
    when: records() >= 100
    actions: [hold_review]
    reason: x
  - name: exe
    when: attachments.exists(a, a.executable)
    actions: [hold_sender]
    reason: x
`

const candidate = `rules:
  - name: pii-bulk
    when: records() >= 10
    actions: [hold_review]
    reason: x
  - name: encrypt-xlsx
    when: has_attachment(".xlsx") && recipients.external > 0
    actions: [encrypt]
    reason: x
`

// traffic is the fixture: kind cycles over four messages.
func traffic(i int, at time.Time) *rules.Report {
	rep := &rules.Report{Sender: fmt.Sprintf("user%d@corp.example.com", i%7), Size: 1000,
		Recipients: rules.Recipients{Total: 1, External: 1, ExternalDomains: []string{"x.example"}}}
	switch i % 4 {
	case 0: // 50 records: delivered live, held by the candidate
		rep.Findings = []rules.Finding{{Detector: "mynumber", Count: 50, Records: 50, Location: "body"}}
	case 1: // executable: held live, delivered by the candidate
		rep.Attachments = []rules.Attachment{{Name: "setup.exe", Location: "attachment:setup.exe", Executable: true}}
	case 2: // spreadsheet to an external address: encrypted by the candidate
		rep.Attachments = []rules.Attachment{{Name: "a.xlsx", Location: "attachment:a.xlsx"}}
	case 3: // 500 records: held by both
		rep.Findings = []rules.Finding{{Detector: "mynumber", Count: 500, Records: 500, Location: "body"}}
	}
	return rep
}

// store fills s with n reports decided by the live policy over the days
// before now, and returns them.
func store(t testing.TB, s *Bolt, n int, now time.Time, days int) {
	t.Helper()
	live := mustPolicy(t, livePolicy)
	step := time.Duration(days) * 24 * time.Hour / time.Duration(n)
	start := now.Add(-time.Duration(days) * 24 * time.Hour)
	const chunk = 10000
	for lo := 0; lo < n; lo += chunk {
		var batch []*Report
		for i := lo; i < min(lo+chunk, n); i++ {
			rep := traffic(i, start)
			d := live.Evaluate(rep)
			batch = append(batch, FromAnalysis(fmt.Sprintf("Q%08d", i), start.Add(time.Duration(i)*step), rep, &d))
		}
		put(t, s, batch...)
	}
}

func replay(t testing.TB, s *Bolt, pol *policy.Policy, since, now time.Time) Result {
	rp := NewReplay(pol, since, now)
	corrupt, err := s.Scan(context.Background(), since, func(r *Report) error { rp.Add(r); return nil })
	if err != nil || corrupt != 0 {
		t.Fatalf("scan: %v, %d corrupt", err, corrupt)
	}
	return rp.Result()
}

func TestReplayKnownDiff(t *testing.T) {
	s := openDB(t)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	store(t, s, 400, now, 10) // 40 a day, 10 of each kind
	res := replay(t, s, mustPolicy(t, candidate), now.Add(-10*24*time.Hour), now)

	if res.Reports != 400 || res.Changed != 300 {
		t.Fatalf("reports %d changed %d, want 400 and 300", res.Reports, res.Changed)
	}
	// Live: kinds 1 and 3 held; candidate: kinds 0 and 3.
	if res.OldHolds != 200 || res.NewHolds != 200 || res.OldHoldsPerDay != 20 || res.NewHoldsPerDay != 20 {
		t.Fatalf("holds %+v", res)
	}
	want := map[string]int{
		"pii-bulk deliver→hold_review":  100,
		"exe(live) hold_sender→deliver": 100,
		"encrypt-xlsx deliver→encrypt":  100,
	}
	got := map[string]int{}
	for _, c := range res.Changes {
		name := c.Rule
		if c.Live {
			name += "(live)"
		}
		got[name+" "+c.From+"→"+c.To] = c.Count
		if len(c.Examples) != maxExamples {
			t.Errorf("%s: %d examples", name, len(c.Examples))
		}
		for _, e := range c.Examples {
			if e.Sender[1:5] != "***@" {
				t.Errorf("example sender not masked: %q", e.Sender)
			}
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("changes: %v", got)
	}

	if len(res.PerDay) != 10 {
		t.Fatalf("per day: %d days", len(res.PerDay))
	}
	for _, dh := range res.PerDay {
		if dh.Reports != 40 || dh.OldHolds != 20 || dh.NewHolds != 20 {
			t.Errorf("day %+v", dh)
		}
	}

	// A window: the last two days only.
	res = replay(t, s, mustPolicy(t, candidate), now.Add(-2*24*time.Hour), now)
	if res.Reports != 80 || res.Days != 2 || res.NewHoldsPerDay != 20 {
		t.Fatalf("two days: %+v", res)
	}
}

// BenchmarkReplay100k measures a replay of 100,000 stored reports (a
// day of a large company's traffic): reading, decoding and evaluating.
func BenchmarkReplay100k(b *testing.B) {
	s := openDB(b)
	now := time.Now()
	store(b, s, 100_000, now, 14)
	if fi, err := os.Stat(s.DB.Path()); err == nil {
		b.Logf("database: %d bytes for 100,000 reports (%d a report, bbolt pages included)", fi.Size(), fi.Size()/100_000)
	}
	def, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	// The default without its shadow behaviour rule, for the ratio.
	src := string(policy.DefaultYAML())
	i, j := strings.Index(src, "  - name: late-night-external-bulk"), strings.Index(src, "  - name: pii-external")
	noBehaviour := mustPolicy(b, src[:i]+src[j:])
	for _, c := range []struct {
		name string
		pol  *policy.Policy
	}{{"candidate", mustPolicy(b, candidate)}, {"default", def}, {"default-without-late-night", noBehaviour}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				res := replay(b, s, c.pol, time.Time{}, now)
				if res.Reports != 100_000 {
					b.Fatal(res.Reports)
				}
			}
		})
	}
}

func TestScanBackNewestFirst(t *testing.T) {
	s := openDB(t)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	store(t, s, 100, now, 10)
	var ids []string
	_, err := s.ScanBack(context.Background(), now.Add(-24*time.Hour), func(r *Report) error {
		ids = append(ids, r.QueueID)
		if len(ids) == 5 {
			return ErrStop
		}
		return nil
	})
	if err != nil || fmt.Sprint(ids) != "[Q00000099 Q00000098 Q00000097 Q00000096 Q00000095]" {
		t.Fatalf("%v %v", ids, err)
	}
	ids = nil
	if _, err := s.ScanBack(context.Background(), now.Add(-24*time.Hour), func(r *Report) error { ids = append(ids, r.QueueID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 10 || ids[9] != "Q00000090" {
		t.Fatalf("last day: %v", ids)
	}
}

func TestReplayCountsLiveShadowMatches(t *testing.T) {
	pol := mustPolicy(t, "rules:\n  - name: none\n    when: \"false\"\n    actions: [deliver]\n")
	now := time.Now()
	rp := NewReplay(pol, now.Add(-time.Hour), now)
	try := []policy.Shadow{{Rule: "try", Actions: []string{"hold_review"}}}
	rp.Add(&Report{QueueID: "A", Time: now, Actions: []string{"deliver"}, Shadow: try})
	rp.Add(&Report{QueueID: "B", Time: now, Actions: []string{"hold_sender"}, Rules: []string{"x"}, Shadow: try})
	rp.Add(&Report{QueueID: "C", Time: now, Actions: []string{"bcc"}, Shadow: []policy.Shadow{{Rule: "audit", Actions: []string{"bcc"}}}})
	res := rp.Result()
	want := []ShadowCount{{Rule: "audit", Matches: 1}, {Rule: "try", Matches: 2, Holds: 1}}
	if fmt.Sprint(res.Shadow) != fmt.Sprint(want) {
		t.Fatalf("shadow = %+v, want %+v", res.Shadow, want)
	}
}
