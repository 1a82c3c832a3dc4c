package directory

import (
	"github.com/sendguard/sendguard/internal/slapdtest"

	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestDirectory(t *testing.T, s *slapdtest.Server, opts Options) (*Directory, *LDAP) {
	t.Helper()
	l, err := NewLDAP(testConfig(s.URL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return New(l, opts), l
}

// waitFor polls until cond holds (background lookups finish on their own
// schedule).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDirectoryCacheAndOutage(t *testing.T) {
	s := slapdtest.Start(t)
	clk := &clock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	d, _ := newTestDirectory(t, s, Options{TTL: time.Minute, NegativeTTL: 10 * time.Second, Wait: 2 * time.Second,
		Retry: 30 * time.Second, Now: clk.Now, Approvers: []string{"manager", "group"},
		ApproverGroup: "cn=承認者,ou=groups,dc=example,dc=com"})
	ctx := context.Background()

	r := d.Sender(ctx, "suzuki@example.com")
	if r.Status != StatusFound || r.Stale || r.Person.Department != "経理部" || !slices.Contains(r.Person.Groups, "全社員") {
		t.Fatalf("first lookup: %+v", r)
	}
	sd := r.Report()
	if sd.Status != "found" || sd.Manager != "sato@example.com" || sd.Department != "経理部" {
		t.Errorf("report section: %+v", sd)
	}
	if r := d.Sender(ctx, "nobody@example.com"); r.Status != StatusNotFound {
		t.Errorf("unknown sender: %+v", r)
	}
	if a := d.Approvers(ctx, "suzuki@example.com"); !reflect.DeepEqual(a, []string{"sato@example.com"}) {
		t.Errorf("approvers of suzuki: %q", a)
	}
	// No manager: the approver group stands in.
	if a := d.Approvers(ctx, "yamada@example.com"); !reflect.DeepEqual(a, []string{"sato@example.com", "yamada@example.com"}) {
		t.Errorf("approvers of yamada: %q", a)
	}
	if st := d.Status(); !st.Up || st.People != 3 || st.Groups != 1 {
		t.Errorf("status %+v", st)
	}

	// The directory goes away: cached answers keep working, even expired,
	// and nothing waits.
	s.Stop()
	clk.Add(2 * time.Minute)
	start := time.Now()
	r = d.Sender(ctx, "suzuki@example.com")
	if r.Status != StatusFound || !r.Stale || r.Person.Manager != "sato@example.com" {
		t.Errorf("stale answer while down: %+v", r)
	}
	waitFor(t, "the refresh to fail", func() bool { return !d.Status().Up })
	if r := d.Sender(ctx, "tanaka@example.com"); r.Status != StatusUnavailable {
		t.Errorf("uncached sender while down: %+v", r)
	}
	if a := d.Approvers(ctx, "suzuki@example.com"); !reflect.DeepEqual(a, []string{"sato@example.com"}) {
		t.Errorf("approvers while down: %q", a)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("lookups while down took %v", took)
	}
	st := d.Status()
	if st.Up || st.DownSince.IsZero() || !strings.Contains(st.String(), "DOWN since") || !strings.Contains(st.String(), "connect") {
		t.Errorf("status while down: %s", st)
	}
	t.Log(st)

	// Back again: the next retry finds it.
	s.Restart()
	clk.Add(31 * time.Second)
	d.Sender(ctx, "tanaka@example.com")
	waitFor(t, "recovery", func() bool { return d.Status().Up })
	if r := d.Sender(ctx, "tanaka@example.com"); r.Status != StatusFound || r.Person.Department != "営業部" {
		t.Errorf("after recovery: %+v", r)
	}
	if a := d.Approvers(ctx, "tanaka@example.com"); len(a) != 2 {
		t.Errorf("tanaka's manager has no mail: the group approves, got %q", a)
	}
}

// A hung server (accepts, never answers) costs a message at most Wait once,
// then nothing while it stays down.
func TestDirectoryHungServer(t *testing.T) {
	s := slapdtest.Start(t)
	d, _ := newTestDirectory(t, s, Options{Wait: 50 * time.Millisecond, Retry: time.Hour})
	ctx := context.Background()
	// The first lookup may outlast Wait on a loaded machine (go test -race
	// ./...); it goes on in the background and fills the cache.
	waitFor(t, "the first lookup", func() bool { return d.Sender(ctx, "sato@example.com").Status == StatusFound })
	waitFor(t, "the directory to be up", func() bool { return d.Status().Up })
	s.Freeze()
	defer s.Thaw()
	start := time.Now()
	if r := d.Sender(ctx, "suzuki@example.com"); r.Status != StatusUnavailable {
		t.Errorf("hung: %+v", r)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("first message waited %v", took)
	}
	// Before the lookup's own timeout fires, later messages do not wait.
	start = time.Now()
	if r := d.Sender(ctx, "tanaka@example.com"); r.Status != StatusUnavailable || time.Since(start) > 20*time.Millisecond {
		t.Errorf("second message while hung: %+v after %v", r, time.Since(start))
	}
	waitFor(t, "the lookup to time out", func() bool { return !d.Status().Up })
	start = time.Now()
	for i := range 100 {
		if r := d.Sender(ctx, fmt.Sprintf("u%d@example.com", i)); r.Status != StatusUnavailable {
			t.Fatalf("hung: %+v", r)
		}
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("100 messages while down took %v", took)
	}
	if r := d.Sender(ctx, "sato@example.com"); r.Status != StatusFound {
		t.Errorf("cached sender while hung: %+v", r)
	}
}

// TestDirectoryLatency measures what the directory adds to a message:
// warm cache, and directory down (slapd stopped) for addresses never seen.
func TestDirectoryLatency(t *testing.T) {
	s := slapdtest.Start(t)
	d, _ := newTestDirectory(t, s, Options{Wait: 300 * time.Millisecond, Retry: time.Hour})
	ctx := context.Background()
	senders := []string{"suzuki@example.com", "sato@example.com", "tanaka@example.com", "yamada@example.com", "nobody@example.com"}
	for _, a := range senders {
		d.Sender(ctx, a)
	}
	const n = 20000
	p99 := func(f func(i int)) time.Duration {
		lat := make([]time.Duration, n)
		for i := range n {
			start := time.Now()
			f(i)
			lat[i] = time.Since(start)
		}
		slices.Sort(lat)
		return lat[n*99/100]
	}
	warm := p99(func(i int) {
		a := senders[i%len(senders)]
		d.Sender(ctx, a)
		d.Approvers(ctx, a)
	})
	s.Stop()
	d.Sender(ctx, "first-after-stop@example.com") // discovers the outage
	waitFor(t, "the outage", func() bool { return !d.Status().Up })
	down := p99(func(i int) {
		a := fmt.Sprintf("new%d@example.com", i)
		d.Sender(ctx, a)
		d.Approvers(ctx, a)
	})
	t.Logf("p99 per message: warm cache %v, directory down %v", warm, down)
	if warm > time.Millisecond || down > 5*time.Millisecond {
		t.Errorf("p99 warm %v (want < 1ms), down %v (want < 5ms)", warm, down)
	}
}
