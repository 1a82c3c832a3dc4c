package hold

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestCreateGet(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	in := f.create("Q1", KindReview, time.Hour)
	got, err := f.s.Get(ctx, "Q1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateHeld || got.Kind != KindReview || got.Sender != "taro@example.com" {
		t.Fatalf("got %+v", got)
	}
	if !got.CreatedAt.Equal(f.clock.Now()) || !got.Deadline.Equal(in.Deadline) {
		t.Fatalf("times: created %v deadline %v", got.CreatedAt, got.Deadline)
	}
	if !bytes.Equal(got.Report, in.Report) {
		t.Fatalf("report %s", got.Report)
	}
	if got.Subject != "見積書" || got.Language != "ja" || len(got.Approvers) != 1 || got.Decision.Rules[0] != "pii-external" {
		t.Fatalf("fields lost: %+v", got)
	}
	if _, err := f.s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := f.s.Create(ctx, sampleRecord("Q1", KindSender), System, ""); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	ev, err := f.s.Events(ctx, "Q1")
	if err != nil || len(ev) != 1 || ev[0].Action != ActionHold || ev[0].To != StateHeld {
		t.Fatalf("events %+v %v", ev, err)
	}
}

func TestCreateInvalid(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	cases := map[string]*Record{
		"no id":          {Kind: KindSender},
		"bad kind":       {ID: "a", Kind: "boss"},
		"delay no dline": {ID: "b", Kind: KindDelay},
		"decided":        {ID: "c", Kind: KindSender, State: StateReleased},
		"bad report":     {ID: "d", Kind: KindSender, Report: []byte("{")},
		"long id":        {ID: string(bytes.Repeat([]byte("x"), 300)), Kind: KindSender},
	}
	for name, r := range cases {
		if err := f.s.Create(ctx, r, System, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := f.s.Counts(ctx)
	if err != nil || c.ByState[StateHeld] != 0 {
		t.Fatalf("invalid records counted: %+v %v", c, err)
	}
}

// TestReopen simulates a restart: records, tokens, deadlines, counts and
// the audit chain are all still there and the timers resume.
func TestReopen(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.create("A", KindSender, time.Hour)
	f.create("B", KindDelay, 10*time.Minute)
	f.create("C", KindApprover, 0)
	if err := f.s.AddToken(ctx, Token{Hash: tokenHash(1), MessageID: "C", Role: RoleApprover, Expires: f.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Transition(ctx, "A", StateCancelled, alice, "oops"); err != nil {
		t.Fatal(err)
	}
	f.reopen()

	if st := f.state("A"); st != StateCancelled {
		t.Fatalf("A %s", st)
	}
	c, _ := f.s.Counts(ctx)
	if c.ByState[StateHeld] != 2 || c.ByState[StateCancelled] != 1 || c.HeldByKind[KindDelay] != 1 {
		t.Fatalf("counts %+v", c)
	}
	if _, _, err := f.s.LookupToken(ctx, tokenHash(1), RoleApprover, f.clock.Now()); err != nil {
		t.Fatalf("token after restart: %v", err)
	}
	f.clock.Advance(11 * time.Minute)
	if n, err := f.s.Tick(ctx, f.clock.Now()); n != 1 || err != nil {
		t.Fatalf("tick after restart: %d %v", n, err)
	}
	if st := f.state("B"); st != StateReleased {
		t.Fatalf("B %s", st)
	}
	if n, err := f.s.Verify(ctx); err != nil || n != 5 {
		t.Fatalf("verify %d %v", n, err)
	}
}

func TestNewNilDB(t *testing.T) {
	if _, err := New(nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestCheckFindsDamage(t *testing.T) {
	damage := map[string]func(tx *bbolt.Tx) error{
		"posting lost": func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketIndex).Cursor()
			k, _ := c.First()
			return tx.Bucket(bucketIndex).Delete(append([]byte(nil), k...))
		},
		"stray deadline": func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketDeadlines).Put(timeID(time.Unix(5, 0), "ghost"), nil)
		},
		"count off": func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketCounts).Put([]byte(StateHeld), u64(7))
		},
		"token expiry lost": func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketTokenExp).Cursor().First()
			return tx.Bucket(bucketTokenExp).Delete(append([]byte(nil), k...))
		},
		"token orphaned": func(tx *bbolt.Tx) error {
			h := tokenHash(1)
			return tx.Bucket(bucketTokenMsg).Delete(concat(lp(nil, "A"), h[:]))
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ctx := context.Background()
			f.create("A", KindSender, time.Hour)
			f.create("B", KindReview, 0)
			if err := f.s.AddToken(ctx, Token{Hash: tokenHash(1), MessageID: "A", Role: RoleSender, Expires: f.clock.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.s.Transition(ctx, "B", StateRejected, alice, ""); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Check(ctx); err != nil {
				t.Fatalf("healthy store: %v", err)
			}
			if err := f.db.Update(fn); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Check(ctx); err == nil {
				t.Fatal("damage not found")
			}
		})
	}
}
