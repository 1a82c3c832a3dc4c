// Package directory reads senders' managers, departments and groups from
// the company directory (LDAP or Active Directory) for the policy and for
// hold_approver.
//
// Invariant: acceptance never waits on the directory. Sender answers from
// a cache (positive and negative entries with their own TTLs); a miss or
// an expired entry starts one background lookup per address and waits for
// it at most Options.Wait. While the directory is failing no lookup is
// waited for at all: the last good answers keep being served (however old)
// and a probe every Options.Retry finds when it is back. A message whose
// sender is unknown because of this says so (StatusUnavailable), so the
// policy and the static approvers decide instead; nothing is let through
// on the directory's account.
package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sendguard/sendguard/rules"
)

// ErrNotFound means no directory entry has the address.
var ErrNotFound = errors.New("no directory entry has this address")

// Statuses of a sender lookup, as the policy sees them in sender.directory.
const (
	StatusFound       = "found"
	StatusNotFound    = "not_found"
	StatusUnavailable = "unavailable"
)

// Person is one directory entry.
type Person struct {
	Address     string   `json:"address"` // the address looked up, lower-cased
	DN          string   `json:"dn"`
	Mail        string   `json:"mail,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Department  string   `json:"department,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	ManagerDN   string   `json:"manager_dn,omitempty"`
	Manager     string   `json:"manager,omitempty"` // the manager's address
	DeputyDN    string   `json:"deputy_dn,omitempty"`
	Deputy      string   `json:"deputy,omitempty"` // who approves in their stead when absent
	// Problems are defects of the entry an operator should fix (no mail,
	// no manager, a manager without mail).
	Problems []string `json:"problems,omitempty"`
}

// Source is where the directory's answers come from (LDAP in production).
type Source interface {
	Lookup(ctx context.Context, addr string) (*Person, error)
	Members(ctx context.Context, groupDN string) ([]string, error)
	Ping(ctx context.Context) error
}

// Options tune the cache and the hot path.
type Options struct {
	// TTL keeps a found entry, NegativeTTL a "not found", before they are
	// looked up again.
	TTL, NegativeTTL time.Duration
	// Wait bounds how long a message waits for a lookup of an address
	// that is not cached.
	Wait time.Duration
	// Retry is how often a failing directory is probed.
	Retry time.Duration
	// Timeout bounds one background lookup (user, manager, groups).
	Timeout time.Duration
	// MaxEntries bounds the cache; the oldest entries go first.
	MaxEntries int
	// Approvers lists where approvers come from, in order: "manager"
	// and/or "group" (the members of ApproverGroup).
	Approvers     []string
	ApproverGroup string
	// AbsentGroup names the group (as in Person.Groups) whose members are
	// away.
	AbsentGroup string
	Log         *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Directory is the cached, non-blocking view of a Source.
type Directory struct {
	src  Source
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	people   map[string]*entry
	groups   map[string]*entry
	inflight map[string]chan struct{}
	health   health

	hits, misses, waited, timedOut atomic.Int64
	// slow is set when a message gave up waiting, cleared when a lookup
	// succeeds.
	slow atomic.Bool
}

type entry struct {
	p       *Person // nil: not found
	members []string
	fetched time.Time
	expires time.Time
}

type health struct {
	up          bool
	checked     bool
	lastOK      time.Time
	lastAttempt time.Time
	lastErr     string
	downSince   time.Time
}

// New wraps src. Call Run to keep the health current.
func New(src Source, opts Options) *Directory {
	if opts.TTL <= 0 {
		opts.TTL = 15 * time.Minute
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = 2 * time.Minute
	}
	if opts.Wait <= 0 {
		opts.Wait = 300 * time.Millisecond
	}
	if opts.Retry <= 0 {
		opts.Retry = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100_000
	}
	if len(opts.Approvers) == 0 {
		opts.Approvers = []string{"manager"}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{src: src, opts: opts, log: log, people: map[string]*entry{}, groups: map[string]*entry{},
		inflight: map[string]chan struct{}{}, health: health{up: true}}
}

// Result is what the directory says of one sender.
type Result struct {
	Status string
	Person *Person // set when Status is StatusFound
	// Stale is true when the answer is older than its TTL (the directory
	// is failing or a refresh is under way).
	Stale bool
}

// Report is the policy's view of the result.
func (r Result) Report() *rules.SenderDirectory {
	sd := &rules.SenderDirectory{Status: r.Status}
	if r.Person != nil {
		sd.Department, sd.Groups, sd.Manager = r.Person.Department, r.Person.Groups, r.Person.Manager
	}
	return sd
}

// Sender answers from the cache, waiting at most Options.Wait (and never
// while the directory is failing) for an address it has not seen.
func (d *Directory) Sender(ctx context.Context, addr string) Result {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return Result{Status: StatusNotFound}
	}
	now := d.opts.Now()
	d.mu.Lock()
	e, ok := d.people[addr]
	if ok && now.Before(e.expires) {
		d.mu.Unlock()
		d.hits.Add(1)
		return resultOf(e, false)
	}
	d.misses.Add(1)
	done := d.startLocked(addr, now, func(ctx context.Context) (*entry, error) {
		p, err := d.src.Lookup(ctx, addr)
		if errors.Is(err, ErrNotFound) {
			return &entry{}, nil
		}
		if err != nil {
			return nil, err
		}
		return &entry{p: p}, nil
	}, d.people)
	d.mu.Unlock()
	if ok {
		// The last good answer serves this message; the refresh serves
		// the next.
		return resultOf(e, true)
	}
	if done == nil || d.slow.Load() {
		// While a lookup has outlasted Wait and none has finished since,
		// the directory is treated as down for waiting purposes: a
		// server that accepts and never answers costs one message Wait,
		// not every message until its timeouts fire.
		return Result{Status: StatusUnavailable}
	}
	d.waited.Add(1)
	t := time.NewTimer(d.opts.Wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		d.timedOut.Add(1)
		d.slow.Store(true)
	case <-ctx.Done():
	}
	d.mu.Lock()
	e, ok = d.people[addr]
	d.mu.Unlock()
	if !ok {
		return Result{Status: StatusUnavailable}
	}
	return resultOf(e, false)
}

func resultOf(e *entry, stale bool) Result {
	if e.p == nil {
		return Result{Status: StatusNotFound, Stale: stale}
	}
	return Result{Status: StatusFound, Person: e.p, Stale: stale}
}

// startLocked starts a background fetch of key unless one is running or
// the directory is failing and not due for a retry. It returns the channel
// closed when the fetch ends, or nil when none was started or joined.
func (d *Directory) startLocked(key string, now time.Time, fetch func(context.Context) (*entry, error), into map[string]*entry) chan struct{} {
	if ch, ok := d.inflight[key]; ok {
		return ch
	}
	if !d.health.up && now.Sub(d.health.lastAttempt) < d.opts.Retry {
		return nil
	}
	if len(d.inflight) >= 64 {
		// A slow directory must not pile up goroutines.
		return nil
	}
	d.health.lastAttempt = now
	ch := make(chan struct{})
	d.inflight[key] = ch
	go func() {
		defer func() {
			if r := recover(); r != nil {
				d.log.Error("directory lookup panicked", "panic", r)
				d.finish(key, nil, fmt.Errorf("panic: %v", r), into)
			}
			close(ch)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), d.opts.Timeout)
		defer cancel()
		e, err := fetch(ctx)
		d.finish(key, e, err, into)
	}()
	return ch
}

func (d *Directory) finish(key string, e *entry, err error, into map[string]*entry) {
	now := d.opts.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, key)
	if err != nil {
		if d.health.up || !d.health.checked {
			d.log.Warn("directory unavailable; serving cached answers and static approvers", "err", err)
			d.health.downSince = now
		}
		d.health.up, d.health.checked, d.health.lastErr = false, true, err.Error()
		return
	}
	if !d.health.up {
		d.log.Info("directory available again")
	}
	d.slow.Store(false)
	d.health.up, d.health.checked, d.health.lastOK, d.health.lastErr = true, true, now, ""
	e.fetched = now
	e.expires = now.Add(d.opts.TTL)
	if e.p == nil && e.members == nil {
		e.expires = now.Add(d.opts.NegativeTTL)
	}
	if e.p != nil && len(e.p.Problems) > 0 {
		d.log.Warn("directory entry incomplete", "address", e.p.Address, "problems", strings.Join(e.p.Problems, "; "))
	}
	if len(into) >= d.opts.MaxEntries {
		evictOldest(into)
	}
	into[key] = e
}

// evictOldest drops the tenth of the entries fetched longest ago.
func evictOldest(m map[string]*entry) {
	var oldest time.Time
	for _, e := range m {
		if oldest.IsZero() || e.fetched.Before(oldest) {
			oldest = e.fetched
		}
	}
	var newest time.Time
	for _, e := range m {
		newest = maxTime(newest, e.fetched)
	}
	cut := oldest.Add(newest.Sub(oldest) / 10)
	for k, e := range m {
		if !e.fetched.After(cut) {
			delete(m, k)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Lookup asks the directory now, bypassing the cache and waiting up to
// Options.Timeout (operators' lookups and offline checks, never the hot
// path).
func (d *Directory) Lookup(ctx context.Context, addr string) (*Person, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	return d.src.Lookup(ctx, strings.ToLower(strings.TrimSpace(addr)))
}

// Approvers names the approvers of sender from the directory: their
// manager, or the members of the approver group, in the configured order.
// It never waits longer than Sender does; nil means the directory has no
// answer (the static configuration decides).
func (d *Directory) Approvers(ctx context.Context, sender string) []string {
	for _, src := range d.opts.Approvers {
		switch src {
		case "manager":
			r := d.Sender(ctx, sender)
			if r.Person != nil && r.Person.Manager != "" {
				return []string{r.Person.Manager}
			}
		case "group":
			if m := d.groupMembers(ctx); len(m) > 0 {
				return m
			}
		}
	}
	return nil
}

// ApproverSources are the approvers of sender from each configured
// source in order (the manager, the approver group's members), for an
// N-of-M hold that gathers until it has enough. Like Approvers it never
// waits longer than Sender does.
func (d *Directory) ApproverSources(ctx context.Context, sender string) [][]string {
	var out [][]string
	for _, src := range d.opts.Approvers {
		switch src {
		case "manager":
			if r := d.Sender(ctx, sender); r.Person != nil && r.Person.Manager != "" {
				out = append(out, []string{r.Person.Manager})
			}
		case "group":
			if m := d.groupMembers(ctx); len(m) > 0 {
				out = append(out, m)
			}
		}
	}
	return out
}

// Standing is what the directory says of an approver's presence.
type Standing struct {
	// Absent is true when the approver is a member of AbsentGroup.
	Absent bool
	// Deputy is the address of their deputy ("" when none is named).
	Deputy string
	// Known is false when the directory had no answer for them (unknown
	// address, or down with nothing cached).
	Known bool
}

// Standing looks an approver up (from the cache, waiting no longer than
// Sender) for whether they are away and who stands in for them. Without
// an AbsentGroup nobody is away and nothing is looked up.
func (d *Directory) Standing(ctx context.Context, approver string) Standing {
	if d.opts.AbsentGroup == "" {
		return Standing{}
	}
	r := d.Sender(ctx, approver)
	if r.Person == nil {
		return Standing{}
	}
	st := Standing{Known: true, Deputy: r.Person.Deputy}
	if g := d.opts.AbsentGroup; g != "" {
		st.Absent = slices.ContainsFunc(r.Person.Groups, func(n string) bool { return strings.EqualFold(n, g) })
	}
	return st
}

func (d *Directory) groupMembers(ctx context.Context) []string {
	dn := d.opts.ApproverGroup
	if dn == "" {
		return nil
	}
	key := "group:" + strings.ToLower(dn)
	now := d.opts.Now()
	d.mu.Lock()
	e, ok := d.groups[key]
	if ok && now.Before(e.expires) {
		d.mu.Unlock()
		return e.members
	}
	done := d.startLocked(key, now, func(ctx context.Context) (*entry, error) {
		m, err := d.src.Members(ctx, dn)
		if err != nil {
			return nil, err
		}
		return &entry{members: m}, nil
	}, d.groups)
	d.mu.Unlock()
	if ok {
		return e.members
	}
	if done == nil {
		return nil
	}
	t := time.NewTimer(d.opts.Wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.groups[key]; ok {
		return e.members
	}
	return nil
}

// Run probes the directory every Options.Retry while it is failing (and
// every TTL while it works) so the status is current and recovery is seen
// without traffic. It returns when ctx ends.
func (d *Directory) Run(ctx context.Context) {
	d.probe(ctx)
	for {
		d.mu.Lock()
		every := d.opts.TTL
		if !d.health.up {
			every = d.opts.Retry
		}
		d.mu.Unlock()
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.probe(ctx)
	}
}

func (d *Directory) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	err := d.src.Ping(ctx)
	if ctx.Err() != nil && err != nil && errors.Is(err, context.Canceled) {
		return
	}
	now := d.opts.Now()
	d.mu.Lock()
	d.health.lastAttempt = now
	d.mu.Unlock()
	d.finish("", &entry{}, err, map[string]*entry{})
}

// Status is the directory's state for operators.
type Status struct {
	Up        bool      `json:"up"`
	Checked   bool      `json:"checked"` // false until the first answer or failure
	LastOK    time.Time `json:"last_ok,omitzero"`
	DownSince time.Time `json:"down_since,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	People    int       `json:"cached_people"`
	Groups    int       `json:"cached_groups"`
	Hits      int64     `json:"hits"`
	Misses    int64     `json:"misses"`
	Waited    int64     `json:"waited"`    // misses that waited for a lookup
	TimedOut  int64     `json:"timed_out"` // of those, the ones that gave up
}

// Status reports health and cache counters.
func (d *Directory) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := Status{Up: d.health.up, Checked: d.health.checked, LastOK: d.health.lastOK, LastError: d.health.lastErr,
		People: len(d.people), Groups: len(d.groups)}
	if !d.health.up {
		s.DownSince = d.health.downSince
	}
	s.Hits, s.Misses, s.Waited, s.TimedOut = d.hits.Load(), d.misses.Load(), d.waited.Load(), d.timedOut.Load()
	return s
}

// String is the one-line summary for the CLI and the console.
func (s Status) String() string {
	cache := fmt.Sprintf("%d people and %d groups cached, %d hits, %d misses (%d gave up waiting)",
		s.People, s.Groups, s.Hits, s.Misses, s.TimedOut)
	switch {
	case !s.Checked:
		return "directory: not contacted yet; " + cache
	case s.Up:
		return fmt.Sprintf("directory: up (last answer %s); %s", s.LastOK.Format(time.RFC3339), cache)
	}
	return fmt.Sprintf("directory: DOWN since %s (%s); serving cached answers and hold.approvers; %s",
		s.DownSince.Format(time.RFC3339), s.LastError, cache)
}
