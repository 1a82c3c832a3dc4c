package gateway_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/baseline"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
)

// Shadow rules never change delivery, over SMTP to the next hop: each
// match is an audit event of the message, and the sender's baseline
// learns from every accepted message (the second message's shadow rule
// sees the first one's day).
func TestShadowRulesNeverChangeDelivery(t *testing.T) {
	pol := `version: 1
rules:
  - name: try-review
    mode: shadow
    when: recipients.external > 0
    actions: [hold_review]
    reason: {en: trial review}
  - name: seen-before
    mode: shadow
    when: sender.history_days() >= 1
    actions: [reject]
    reason: {en: trial reject}
  - name: default
    when: "true"
    actions: [deliver]
`
	rec := &recorder{}
	p := openPipe(t, t.TempDir(), pol, rec, nil)
	defer p.close()
	bdb, err := bbolt.Open(filepath.Join(t.TempDir(), "baselines.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	tracker := baseline.NewTracker(&baseline.Bolt{DB: bdb}, time.UTC, 0, nil)
	p.insp.Baselines = tracker // before the first session: the server reads it per message

	first := p.send("s1")
	second := p.send("s2")
	if err := p.drain(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{first, second} {
		if n := rec.count(func(r recorded) bool { return r.ID == id && len(r.Rcpts) == 2 }); n != 1 {
			t.Fatalf("%s delivered %d times to both recipients, want once", id, n)
		}
		if _, err := p.q.Holds.Get(context.Background(), id); err == nil {
			t.Fatalf("%s was held by a shadow rule", id)
		}
	}
	shadowEvents := func(id string) []string {
		evs, err := p.q.Holds.Events(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			if e.Action == reports.AuditShadowMatch {
				if e.Actor != hold.System {
					t.Errorf("shadow event by %+v", e.Actor)
				}
				out = append(out, e.Reason)
			}
		}
		return out
	}
	if got := strings.Join(shadowEvents(first), " "); got != "try-review=hold_review" {
		t.Errorf("first message's shadow events: %q", got)
	}
	if got := strings.Join(shadowEvents(second), " "); got != "try-review=hold_review seen-before=reject" {
		t.Errorf("second message's shadow events: %q", got)
	}
	b := tracker.Lookup(context.Background(), "alice@example.com", time.Now())
	if b.Messages != 2 || b.DayExternal != 2 || b.ExternalAttachments != 2 {
		t.Fatalf("baseline after two accepted messages: %+v", b)
	}
}
