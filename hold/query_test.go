package hold

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var (
	testRules   = []string{"pii-external", "lookalike", "mass-exposure", "external-attachment", "keyword"}
	testDomains = []string{"partner.co.jp", "example.com", "client.example.net", "exarnple.com", "vendor.jp", "bank.co.jp"}
	testKinds   = []Kind{KindSender, KindApprover, KindReview, KindDelay}
)

// populate creates n records with seeded random attributes, some created
// at the same instant, and decides about a third of them.
func populate(t testing.TB, f *fixture, n int, seed uint64) []*Record {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	base := f.clock.Now()
	recs := make([]*Record, 0, n)
	for i := range n {
		r := &Record{
			ID:        fmt.Sprintf("Q%07d", rng.IntN(10_000_000)*10+i%10) + fmt.Sprint(i),
			Kind:      testKinds[rng.IntN(len(testKinds))],
			CreatedAt: base.Add(time.Duration(rng.IntN(n*2)) * time.Second),
			Sender:    fmt.Sprintf("user%d@example.com", rng.IntN(50)),
			Subject:   "subject",
			Decision:  Decision{Actions: []string{"hold_review"}, Rules: []string{testRules[rng.IntN(len(testRules))]}},
		}
		if rng.IntN(4) == 0 {
			r.Decision.Rules = append(r.Decision.Rules, testRules[rng.IntN(len(testRules))])
		}
		for range 1 + rng.IntN(3) {
			r.Recipients.Domains = append(r.Recipients.Domains, testDomains[rng.IntN(len(testDomains))])
		}
		if r.Kind == KindDelay {
			r.Deadline = r.CreatedAt.Add(time.Hour)
		}
		recs = append(recs, r)
	}
	targets := []State{StateReleased, StateRejected, StateCancelled, StateExpired}
	for start := 0; start < n; start += 5000 {
		err := f.db.Update(func(tx *bbolt.Tx) error {
			for _, r := range recs[start:min(start+5000, n)] {
				if err := f.s.CreateTx(tx, r, System, ""); err != nil {
					return err
				}
				r.normalize()
				r.State = StateHeld
				if rng.IntN(3) == 0 {
					to := targets[rng.IntN(len(targets))]
					if to == StateExpired && r.Kind == KindDelay {
						to = StateReleased
					}
					if _, _, err := f.s.transitionTx(tx, r.ID, to, alice, "", transitionOpts{}, base); err != nil {
						return err
					}
					r.State = to
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("populate: %v", err)
		}
	}
	return recs
}

func (flt *Filter) matches(r *Record) bool {
	return (flt.State == "" || r.State == flt.State) &&
		(flt.Kind == "" || r.Kind == flt.Kind) &&
		(flt.Rule == "" || slices.Contains(r.Decision.Rules, flt.Rule)) &&
		(flt.Sender == "" || r.Sender == strings.ToLower(flt.Sender)) &&
		(flt.RecipientDomain == "" || slices.Contains(r.Recipients.Domains, flt.RecipientDomain)) &&
		(flt.From.IsZero() || !r.CreatedAt.Before(flt.From)) &&
		(flt.To.IsZero() || r.CreatedAt.Before(flt.To))
}

// expected lists the IDs matching flt in the store's order.
func expected(recs []*Record, flt Filter, oldest bool) []string {
	var m []*Record
	for _, r := range recs {
		if flt.matches(r) {
			m = append(m, r)
		}
	}
	slices.SortFunc(m, func(a, b *Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if !oldest {
		slices.Reverse(m)
	}
	ids := make([]string, len(m))
	for i, r := range m {
		ids[i] = r.ID
	}
	return ids
}

// listAll pages through a listing and returns every ID.
func listAll(t *testing.T, s *Store, flt Filter, oldest bool, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 10_000 {
		res, err := s.List(context.Background(), flt, Page{Cursor: cursor, Limit: limit, Oldest: oldest})
		if err != nil {
			t.Fatalf("list %+v: %v", flt, err)
		}
		if len(res.Records) > limit || (res.Next != "" && len(res.Records) != limit) {
			t.Fatalf("page of %d with next %q", len(res.Records), res.Next)
		}
		for _, r := range res.Records {
			ids = append(ids, r.ID)
		}
		if res.Next == "" {
			return ids
		}
		cursor = res.Next
	}
	t.Fatal("paging did not end")
	return nil
}

func TestListMatchesBruteForce(t *testing.T) {
	f := newFixture(t, Options{})
	recs := populate(t, f, 3000, 7)
	base := f.clock.Now()
	filters := []Filter{
		{},
		{State: StateHeld},
		{State: StateReleased, Kind: KindDelay},
		{Kind: KindReview, Rule: "pii-external"},
		{Rule: "lookalike", RecipientDomain: "exarnple.com"},
		{Sender: "USER7@example.com"},
		{Sender: "user7@example.com", State: StateHeld, RecipientDomain: "partner.co.jp"},
		{State: StateHeld, Kind: KindSender, Rule: "keyword", RecipientDomain: "vendor.jp", Sender: "user3@example.com"},
		{From: base.Add(1000 * time.Second), To: base.Add(2000 * time.Second)},
		{State: StateCancelled, From: base.Add(3000 * time.Second)},
		{RecipientDomain: "bank.co.jp", To: base.Add(500 * time.Second)},
		{RecipientDomain: "nobody.example"},
		{From: base.Add(time.Hour * 100)},
	}
	for i, flt := range filters {
		for _, oldest := range []bool{false, true} {
			want := expected(recs, flt, oldest)
			got := listAll(t, f.s, flt, oldest, 37)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %d %+v oldest=%v: got %d ids, want %d (first diff at %d)", i, flt, oldest, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	if err := f.s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := f.s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if want := len(expected(recs, Filter{State: st}, true)); c.ByState[st] != want {
			t.Fatalf("count %s: %d, want %d", st, c.ByState[st], want)
		}
	}
	for _, k := range testKinds {
		if want := len(expected(recs, Filter{State: StateHeld, Kind: k}, true)); c.HeldByKind[k] != want {
			t.Fatalf("held %s: %d, want %d", k, c.HeldByKind[k], want)
		}
	}
	if _, err := f.s.List(context.Background(), Filter{}, Page{Cursor: "!!"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkList measures one filtered page of 50 over 100,000 records,
// against an unindexed baseline that decodes records until the page is full.
func BenchmarkList(b *testing.B) {
	f := newFixture(b, Options{})
	populate(b, f, 100_000, 11)
	ctx := context.Background()
	cases := map[string]Filter{
		"all":             {},
		"held":            {State: StateHeld},
		"held-rule-dom":   {State: StateHeld, Rule: "lookalike", RecipientDomain: "bank.co.jp"},
		"sender-kind-dom": {Sender: "user7@example.com", Kind: KindReview, RecipientDomain: "vendor.jp"},
	}
	for name, flt := range cases {
		b.Run("index/"+name, func(b *testing.B) {
			for b.Loop() {
				res, err := f.s.List(ctx, flt, Page{Limit: 50})
				if err != nil || len(res.Records) == 0 {
					b.Fatalf("%d %v", len(res.Records), err)
				}
			}
		})
		b.Run("scan/"+name, func(b *testing.B) {
			for b.Loop() {
				if n := scanList(b, f, flt, 50); n == 0 {
					b.Fatal("empty")
				}
			}
		})
	}
}

// scanList is the baseline without indexes: decode every record, keep
// the matches, sort by time and take the newest page.
func scanList(b *testing.B, f *fixture, flt Filter, limit int) int {
	var m []*Record
	f.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			r, err := getRecord(tx, string(k))
			if err != nil {
				b.Fatal(err)
			}
			if flt.matches(r) {
				m = append(m, r)
			}
		}
		return nil
	})
	slices.SortFunc(m, func(x, y *Record) int { return y.CreatedAt.Compare(x.CreatedAt) })
	return len(m[:min(limit, len(m))])
}
