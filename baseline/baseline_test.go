package baseline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sendguard/sendguard/internal/testclock"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

var tokyo = time.FixedZone("JST", 9*3600)

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newTracker(t *testing.T) (*Tracker, *bbolt.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	t.Cleanup(func() { db.Close() })
	s := &Bolt{DB: db}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	return NewTracker(s, tokyo, 0, nil), db
}

// office sends, on each of days working days from clk's day, msgs
// messages between 10:00 and 17:00 (Tokyo), one external recipient each,
// attachments of attBytes to the outside on every other message.
func office(t *testing.T, tr *Tracker, clk *testclock.Clock, sender string, days, msgs int, attBytes int64) {
	t.Helper()
	ctx := context.Background()
	for range days {
		start := clk.Now()
		for i := range msgs {
			at := start.Add(10*time.Hour + time.Duration(i)*7*time.Hour/time.Duration(msgs))
			o := Observation{At: at, External: 1}
			if i%2 == 0 && attBytes > 0 {
				o.AttachmentBytes, o.ExternalAttachment = attBytes, true
			}
			tr.Observe(ctx, sender, o)
		}
		clk.Advance(24 * time.Hour)
	}
}

func TestSignalsWithHandMovedClock(t *testing.T) {
	ctx := context.Background()
	tr, _ := newTracker(t)
	clk := testclock.New(time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo)) // a Monday, midnight
	const alice = "Alice@Example.com"

	// No history: nothing to judge by, nothing flags.
	b := tr.Lookup(ctx, alice, clk.Now().Add(3*time.Hour))
	if b == nil || b.Established || b.Days != 0 || b.Hour != 3 {
		t.Fatalf("empty baseline: %+v", b)
	}

	office(t, tr, clk, alice, 3, 10, 1<<20)
	b = tr.Lookup(ctx, "alice@example.com", clk.Now().Add(3*time.Hour))
	if b.Established || b.Days != 3 || b.Messages != 30 {
		t.Fatalf("3 days: want learning, got %+v", b)
	}
	office(t, tr, clk, alice, 7, 10, 1<<20)

	// 03:00 the next day: unusual; 14:00: usual.
	night := clk.Now().Add(3 * time.Hour)
	b = tr.Lookup(ctx, alice, night)
	if !b.Established || b.Days != 10 || b.Messages != 100 || b.HourShare != 0 || b.Hour != 3 {
		t.Fatalf("night: %+v", b)
	}
	if day := tr.Lookup(ctx, alice, clk.Now().Add(14*time.Hour)); day.HourShare < 0.1 {
		t.Fatalf("14:00 share %.3f, want usual", day.HourShare)
	}
	// Usual: 10 messages a day over 7 hours → between 1 and 2 per active
	// hour; 10 external recipients and 5 MiB to the outside a day.
	if b.PerHour < 1 || b.PerHour > 2 {
		t.Errorf("per hour %.2f", b.PerHour)
	}
	if b.PerDayExternal < 9.99 || b.PerDayExternal > 10.01 {
		t.Errorf("external per day %.2f", b.PerDayExternal)
	}
	if want := float64(5 << 20); b.PerDayAttachmentBytes < want*0.999 || b.PerDayAttachmentBytes > want*1.001 {
		t.Errorf("attachment bytes per day %.0f, want %.0f", b.PerDayAttachmentBytes, want)
	}
	if b.ExternalAttachments != 50 {
		t.Errorf("external attachments %d", b.ExternalAttachments)
	}

	// A late-night burst: 40 mails with 10 MiB each to the outside.
	for i := range 40 {
		at := night.Add(time.Duration(i) * time.Minute)
		rep := &rules.Report{Recipients: rules.Recipients{External: 3},
			Attachments: []rules.Attachment{{Name: "x.zip", Size: 10 << 20}}}
		rep.SenderBehaviour = tr.Lookup(ctx, alice, at)
		if i == 39 {
			if r, _ := policy.VolumeRatio(rep, policy.VolumeMessages); r < 20 {
				t.Errorf("messages ratio %.1f after 39 in the hour", r)
			}
			if r, _ := policy.VolumeRatio(rep, policy.VolumeExternalAttachmentBytes); r < 70 {
				t.Errorf("bytes ratio %.1f", r)
			}
			if r, _ := policy.VolumeRatio(rep, policy.VolumeExternalRecipients); r < 11 {
				t.Errorf("recipients ratio %.1f", r)
			}
		}
		tr.Observe(ctx, alice, ObservationOf(rep, at))
	}
	// A sender who never sent an attachment outside.
	const bob = "bob@example.com"
	office(t, tr, clk, bob, 6, 10, 0)
	b = tr.Lookup(ctx, bob, clk.Now().Add(11*time.Hour))
	if !b.Established || b.ExternalAttachments != 0 {
		t.Fatalf("bob: %+v", b)
	}
	p := mustPolicy(t, `sender.first_external_attachment()`)
	rep := &rules.Report{Recipients: rules.Recipients{External: 1}, Attachments: []rules.Attachment{{Name: "a.pdf", Size: 10}}, SenderBehaviour: b}
	if d := p.Evaluate(rep); len(d.Rules) != 1 {
		t.Errorf("bob's first external attachment not flagged: %+v", d)
	}
	if d := p.Evaluate(&rules.Report{Recipients: rules.Recipients{External: 1}, Attachments: rep.Attachments,
		SenderBehaviour: tr.Lookup(ctx, alice, clk.Now())}); len(d.Rules) != 0 {
		t.Errorf("alice flagged: %+v", d)
	}
}

func mustPolicy(t *testing.T, when string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("t.yaml", []byte("version: 1\nrules:\n  - name: r\n    when: '"+when+"'\n    actions: [hold_review]\n    reason: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The clock steps back: nothing rolls or decays backwards, counts stay.
func TestClockStepBack(t *testing.T) {
	var r Record
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, tokyo)
	r.Observe(Observation{At: t0}, tokyo)
	r.Observe(Observation{At: t0.Add(-2 * time.Hour)}, tokyo)
	if r.Messages != 2 || r.HourMessages != 2 || r.Days != 1 || r.Hours[12] != 1 || r.Hours[10] != 1 {
		t.Fatalf("%+v", r)
	}
}

// Baselines survive a restart: observe, stop (Run's final flush), reopen
// the database, look up.
func TestSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db := openDB(t, path)
	s := &Bolt{DB: db}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(s, tokyo, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx, time.Hour); close(done) }()
	clk := testclock.New(time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo))
	office(t, tr, clk, "carol@example.com", 8, 12, 2<<20)
	at := clk.Now().Add(2 * time.Hour)
	before := tr.Lookup(context.Background(), "carol@example.com", at)
	cancel()
	<-done
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	defer db.Close()
	tr2 := NewTracker(&Bolt{DB: db}, tokyo, 0, nil)
	after := tr2.Lookup(context.Background(), "CAROL@example.com", at)
	if !after.Established || after.Messages != 96 || after.Days != 8 || after.ExternalAttachments != 48 {
		t.Fatalf("after restart: %+v", after)
	}
	// hours are stored as float32: equal to that precision
	near := func(a, b float64) bool { return a == b || (a-b)/max(a, b) < 1e-6 && (b-a)/max(a, b) < 1e-6 }
	if !near(before.PerHour, after.PerHour) || !near(before.PerDayAttachmentBytes, after.PerDayAttachmentBytes) ||
		!near(before.HourShare, after.HourShare) || before.HourMessages != after.HourMessages {
		t.Fatalf("before %+v\nafter  %+v", before, after)
	}
}

func TestUnmarshalRejectsCorrupt(t *testing.T) {
	var r Record
	r.Observe(Observation{At: time.Unix(1e9, 0), External: 2}, tokyo)
	b := r.Marshal()
	if len(b) != recordSize {
		t.Fatalf("size %d", len(b))
	}
	got, err := Unmarshal(b)
	if err != nil || got.Messages != 1 || got.DayExternal != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append([]byte{9}, b[1:]...)} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("accepted %d bytes", len(bad))
		}
	}
}

// The cache is bounded: clean entries go, dirty ones stay until flushed,
// and an evicted sender's record comes back from the store.
func TestCacheBound(t *testing.T) {
	tr, _ := newTracker(t)
	tr.max = 10
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, tokyo)
	for i := range 30 {
		tr.Observe(ctx, "u"+string(rune('a'+i))+"@example.com", Observation{At: at, External: i})
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		tr.Lookup(ctx, "v"+string(rune('a'+i))+"@example.com", at)
	}
	if n := len(tr.cache); n > 30 {
		t.Fatalf("cache holds %d", n)
	}
	if b := tr.Lookup(ctx, "uz@example.com", at.Add(time.Minute)); b.Messages != 1 || b.DayExternal != 25 {
		t.Fatalf("reloaded: %+v", b)
	}
}

// Concurrent sessions learn and look up while the flusher writes: every
// observation is counted once, and the store has them all after Flush.
func TestConcurrentObserveAndFlush(t *testing.T) {
	tr, db := newTracker(t)
	tr.max = 4 // evictions happen too
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, tokyo)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			if err := tr.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			sender := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com", "f@example.com"}[g%6]
			for i := range 100 {
				tr.Lookup(ctx, sender, at)
				tr.Observe(ctx, sender, Observation{At: at.Add(time.Duration(i) * time.Second), External: 1})
			}
			errs <- nil
		}()
	}
	for range 8 {
		<-errs
	}
	<-done
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := NewTracker(&Bolt{DB: db}, tokyo, 0, nil)
	total := 0
	for _, s := range []string{"a", "b", "c", "d", "e", "f"} {
		total += fresh.Lookup(ctx, s+"@example.com", at.Add(time.Hour)).Messages
	}
	if total != 800 {
		t.Fatalf("%d observations stored, want 800", total)
	}
}

// countingStore counts what the acceptance path and the flusher ask of
// the store.
type countingStore struct {
	Store
	mu            sync.Mutex
	loads, merges int
}

func (c *countingStore) Load(ctx context.Context, k string) (Record, bool, error) {
	c.mu.Lock()
	c.loads++
	c.mu.Unlock()
	return c.Store.Load(ctx, k)
}

func (c *countingStore) Merge(ctx context.Context, obs map[string][]Observation, apply func(*Record, []Observation)) (map[string]Record, error) {
	c.mu.Lock()
	c.merges++
	c.mu.Unlock()
	return c.Store.Merge(ctx, obs, apply)
}

// A message costs at most one store read (Lookup then Observe of one
// sender), none while its record is cached and fresh; writes are one
// Merge per flush whatever the number of messages.
func TestHotPathReads(t *testing.T) {
	tr, db := newTracker(t)
	cs := &countingStore{Store: &Bolt{DB: db}}
	tr.store = cs
	clk := testclock.New(time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo))
	tr.now = clk.Now
	tr.SetMaxAge(30 * time.Second)
	ctx := context.Background()
	const msgs, senders = 2000, 40
	for i := range msgs {
		s := fmt.Sprintf("s%d@example.com", i%senders)
		at := clk.Now()
		tr.Lookup(ctx, s, at)
		tr.Observe(ctx, s, Observation{At: at, External: 1})
		if i%100 == 99 {
			if err := tr.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(100 * time.Millisecond) // 200 s in all
	}
	// Each sender is read once, then again only after a flush left it
	// clean for longer than the max age: far fewer than one per message.
	if cs.loads > msgs/10 || cs.merges != msgs/100 {
		t.Fatalf("%d loads and %d merges for %d messages", cs.loads, cs.merges, msgs)
	}
	t.Logf("%d messages of %d senders: %d store reads, %d merges", msgs, senders, cs.loads, cs.merges)
}
