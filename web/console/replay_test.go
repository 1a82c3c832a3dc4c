package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// replayLive decided the stored fixture; replayCandidate lowers the
// record threshold, so the 50-record messages change deliver → hold.
const (
	replayLive = `rules:
  - name: pii-bulk
    when: records() >= 100
    actions: [hold_review]
    reason: x
`
	replayCandidate = `rules:
  - name: pii-bulk
    when: records() >= 10
    actions: [hold_review]
    reason: x
`
)

// storeFixture stores 4 reports a day for days days before the env's
// clock: one with 50 records (delivered live, held by the candidate), one
// with 500 (held by both), two plain, one of which a shadow rule "try"
// matched (it would have held it). It returns the stored reports.
func storeFixture(t testing.TB, e *env, days int) *reports.Bolt {
	t.Helper()
	rs := &reports.Bolt{DB: e.sp.DB()}
	if err := rs.Init(); err != nil {
		t.Fatal(err)
	}
	live, err := policy.Parse("live.yaml", []byte(replayLive))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	err = e.sp.DB().Update(func(tx *bbolt.Tx) error {
		for i := range days * 4 {
			at := now.Add(-time.Duration(days)*24*time.Hour + time.Duration(i)*6*time.Hour + time.Minute)
			rep := &rules.Report{Sender: fmt.Sprintf("user%d@example.com", i%3),
				Recipients: rules.Recipients{Total: 1, External: 1, ExternalDomains: []string{"partner.co.jp"}}}
			switch i % 4 {
			case 0:
				rep.Findings = []rules.Finding{{Detector: "mynumber", Count: 50, Records: 50, Location: "body"}}
			case 3:
				rep.Findings = []rules.Finding{{Detector: "mynumber", Count: 500, Records: 500, Location: "body"}}
			}
			d := live.Evaluate(rep)
			if i%4 == 1 {
				d.Shadow = []policy.Shadow{{Rule: "try", Actions: []string{"hold_review"}}}
			}
			if err := rs.PutTx(tx, reports.FromAnalysis(fmt.Sprintf("R%04d", i), at, rep, &d)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestReplayPage(t *testing.T) {
	var rs *reports.Bolt
	e := newEnv(t, func(c *Config) { c.Reports = &lateScanner{&rs} })
	rs = storeFixture(t, e, 7)
	e.addUser("viewer", RoleViewer)
	c := e.client()
	c.login("viewer")

	r := c.get("/console/replay")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="replay-form"`) {
		t.Fatalf("replay page: %d", r.status)
	}
	r = c.postCSRF("/console/replay", url.Values{"policy": {replayCandidate}, "days": {"7"}})
	if r.status != http.StatusOK {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	mustContain(t, r.body, `id="replay-changed">7<`, `id="replay-old-per-day">1.0<`, `id="replay-new-per-day">2.0<`,
		"deliver</span> → <span class=\"tag act-hold_review\">hold_review", "<svg class=\"chart\"", "u***@example.com")
	if strings.Contains(r.body, "user0@") {
		t.Error("unmasked sender on the replay page")
	}
	// a window of one day sees 4 reports
	r = c.postCSRF("/console/replay", url.Values{"policy": {replayCandidate}, "days": {"1"}})
	mustContain(t, r.body, `id="replay-changed">1<`)

	// A candidate that does not load is explained, with its line.
	r = c.postCSRF("/console/replay", url.Values{"policy": {"rules:\n  - name: x\n    when: nope(\n    actions: [hold_review]\n"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="replay-problem"`) || !strings.Contains(r.body, "candidate.yaml:3: rule &#34;x&#34;: when") {
		t.Fatalf("bad candidate: %d %s", r.status, r.body)
	}
	// Without the CSRF token nothing runs.
	if r := c.post("/console/replay", url.Values{"policy": {replayCandidate}}); r.status != http.StatusForbidden {
		t.Fatalf("replay without CSRF: %d", r.status)
	}

	// The dashboard compares shadow and live: "try" matched 7 messages,
	// all of which it would have stopped; pii-bulk held 7 live.
	r = c.get("/console/")
	mustContain(t, r.body, `id="shadow-vs-live"`,
		`<tr data-rule="try"><td><b>try</b> <span class="tag shadow">shadow</span></td><td class="num live">0</td><td class="num shadow-n">7</td><td class="num stop">7</td></tr>`,
		`<tr data-rule="pii-bulk"><td><b>pii-bulk</b></td><td class="num live">7</td>`)
}

// lateScanner lets the env be built before the fixture that needs its DB.
type lateScanner struct{ rs **reports.Bolt }

func (l *lateScanner) Scan(ctx context.Context, since time.Time, fn func(*reports.Report) error) (int, error) {
	return (*l.rs).Scan(ctx, since, fn)
}

func (l *lateScanner) ScanBack(ctx context.Context, since time.Time, fn func(*reports.Report) error) (int, error) {
	return (*l.rs).ScanBack(ctx, since, fn)
}

// scriptHolds creates holds of two rules and ends them: in one week four
// of mass-exposure (2 cancelled, 1 sent as Bcc, 1 confirmed as is: catch
// 75%, noise 25%), two of pii (released, rejected: 50%, 50%); in the next
// one of mass-exposure, confirmed.
func scriptHolds(t testing.TB, e *env) {
	t.Helper()
	ctx := context.Background()
	n := 0
	create := func(kind hold.Kind, why string) string {
		n++
		id := fmt.Sprintf("H%03d", n)
		now := e.clock.Now()
		r := &hold.Record{ID: id, Kind: kind, CreatedAt: now, Deadline: now.Add(72 * time.Hour), Sender: "a@example.com",
			Decision: hold.Decision{Actions: []string{"hold_sender"}}}
		if err := e.hold.Create(ctx, r, hold.System, why); err != nil {
			t.Fatal(err)
		}
		return id
	}
	end := func(id string, to hold.State, actor hold.Actor, opts ...hold.TransitionOption) {
		if _, err := e.hold.Transition(ctx, id, to, actor, "test", opts...); err != nil {
			t.Fatal(err)
		}
	}
	sender := hold.Actor{Name: "a@example.com", Role: string(hold.RoleSender)}
	reviewer := hold.Actor{Name: "sec", Role: string(hold.RoleReviewer)}
	end(create(hold.KindSender, "mass-exposure"), hold.StateCancelled, sender)
	end(create(hold.KindSender, "mass-exposure"), hold.StateCancelled, sender)
	end(create(hold.KindSender, "mass-exposure"), hold.StateReleased, sender, hold.WithMode(hold.ModeBcc))
	end(create(hold.KindSender, "mass-exposure"), hold.StateReleased, sender, hold.WithMode(hold.ModeAsIs))
	end(create(hold.KindReview, "pii"), hold.StateReleased, reviewer)
	end(create(hold.KindReview, "pii"), hold.StateRejected, reviewer)
	// the next week: mass-exposure confirmed as is once (noise 100%)
	e.clock.Advance(7 * 24 * time.Hour)
	end(create(hold.KindSender, "mass-exposure"), hold.StateReleased, sender)
}

// The outcomes page shows what `policy stats` computes: the same
// reports.Outcomes over the same weeks.
func TestOutcomesPage(t *testing.T) {
	e := newEnv(t, nil)
	scriptHolds(t, e)
	e.addUser("viewer", RoleViewer)
	c := e.client()
	c.login("viewer")
	r := c.get("/console/outcomes?weeks=4")
	if r.status != http.StatusOK {
		t.Fatalf("outcomes: %d", r.status)
	}
	rows, err := reports.Outcomes(context.Background(), e.hold, reports.WeeksSince(e.clock.Now(), 4, time.UTC), time.UTC)
	if err != nil || len(rows) != 3 {
		t.Fatalf("outcomes: %+v %v", rows, err)
	}
	for _, row := range rows {
		want := fmt.Sprintf(`data-rule="%s" data-week="%s"><td><b>%s</b></td><td class="nowrap">%s</td><td class="num holds">%d</td><td class="num catch">%.0f%%</td><td class="num noise">%.0f%%</td>`,
			row.Rule, row.Week.Format("2006-01-02"), row.Rule, row.Week.Format("2006-01-02"), row.Holds, row.CatchRate*100, row.NoiseRate*100)
		mustContain(t, r.body, want)
	}
	mustContain(t, r.body, `class="num catch">75%`, `class="num catch">50%`, `class="num noise">100%`, "<polyline", "<circle")
}

// The message page badges a held message a shadow rule matched.
func TestShadowBadge(t *testing.T) {
	e := newEnv(t, nil)
	id := e.seed(msg{subject: "quarterly list"})
	if _, err := e.hold.AppendEvent(context.Background(), hold.Event{MessageID: id, Actor: hold.System,
		Action: reports.AuditShadowMatch, Reason: "late-night-external-bulk=hold_review"}); err != nil {
		t.Fatal(err)
	}
	plain := e.seed(msg{subject: "plain"})
	e.addUser("viewer", RoleViewer)
	c := e.client()
	c.login("viewer")
	mustContain(t, c.get("/console/msg/"+id).body, `<span class="tag shadow"`, "late-night-external-bulk → hold_review")
	if strings.Contains(c.get("/console/msg/"+plain).body, `class="tag shadow"`) {
		t.Fatal("badge on a message no shadow rule matched")
	}
}
