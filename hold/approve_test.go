package hold

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func approverRecord(id string, required int, approvers ...string) *Record {
	r := sampleRecord(id, KindApprover)
	r.Approvers, r.ApprovalsRequired = approvers, required
	r.Decision.Actions = []string{"hold_approver"}
	return r
}

func approverActor(name string) Actor {
	return Actor{Name: name, Role: string(RoleApprover), IP: "192.0.2.7", UserAgent: "test"}
}

func eventActions(t *testing.T, s *Store, id string) []string {
	t.Helper()
	ev, err := s.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ev {
		out = append(out, e.Action)
	}
	return out
}

func TestApproveTwoOfThree(t *testing.T) {
	var released atomic.Int32
	f := newFixture(t, Options{OnRelease: func(*bbolt.Tx, *Record) error { released.Add(1); return nil }})
	ctx := context.Background()
	if err := f.s.Create(ctx, approverRecord("M", 2, "a@example.com", "B@example.com", "c@example.com"), System, "policy"); err != nil {
		t.Fatal(err)
	}
	rec, err := f.s.Approve(ctx, "M", approverActor("a@example.com"), "")
	if err != nil || rec.State != StateHeld || len(rec.Approvals) != 1 || rec.Approvals[0].By != "a@example.com" {
		t.Fatalf("first approval: %+v %v", rec, err)
	}
	if got := eventActions(t, f.s, "M"); len(got) != 2 || got[1] != ActionApprove {
		t.Fatalf("events %v", got)
	}
	ev, _ := f.s.Events(ctx, "M")
	if ev[1].Reason != "approval 1 of 2" || ev[1].From != StateHeld || ev[1].To != StateHeld || ev[1].Actor.Name != "a@example.com" {
		t.Fatalf("approve event %+v", ev[1])
	}

	// The same approver again, in other case, counts nothing.
	rec, err = f.s.Approve(ctx, "M", approverActor(" A@Example.COM "), "")
	if !errors.Is(err, ErrAlreadyApproved) || rec == nil || len(rec.Approvals) != 1 || rec.State != StateHeld {
		t.Fatalf("repeat approval: %+v %v", rec, err)
	}
	// Someone not named is refused.
	if _, err := f.s.Approve(ctx, "M", approverActor("mallory@example.com"), ""); !errors.Is(err, ErrNotApprover) {
		t.Fatalf("outsider: %v", err)
	}
	if got := eventActions(t, f.s, "M"); len(got) != 2 || released.Load() != 0 {
		t.Fatalf("refusals wrote: events %v, releases %d", got, released.Load())
	}

	// Survives a restart.
	f.reopen()
	if r, _ := f.s.Get(ctx, "M"); len(r.Approvals) != 1 || r.Required() != 2 || !r.ApprovedBy("a@example.com") {
		t.Fatalf("after restart %+v", r)
	}

	rec, err = f.s.Approve(ctx, "M", approverActor("b@example.com"), "ok")
	if err != nil || rec.State != StateReleased || rec.DecidedBy.Name != "b@example.com" || rec.Mode != ModeAsIs || len(rec.Approvals) != 2 {
		t.Fatalf("second approval: %+v %v", rec, err)
	}
	if got := eventActions(t, f.s, "M"); len(got) != 3 || got[2] != ActionRelease {
		t.Fatalf("events %v", got)
	}
	if _, err := f.s.Approve(ctx, "M", approverActor("c@example.com"), ""); !errors.Is(err, ErrAlreadyDecided) {
		t.Fatalf("third approval after release: %v", err)
	}
	if released.Load() != 1 {
		t.Fatalf("%d release hooks", released.Load())
	}
	if err := f.s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestApproveThenRejectByAnother(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	if err := f.s.Create(ctx, approverRecord("M", 2, "a@example.com", "b@example.com"), System, "policy"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Approve(ctx, "M", approverActor("a@example.com"), ""); err != nil {
		t.Fatal(err)
	}
	rec, err := f.s.Transition(ctx, "M", StateRejected, approverActor("b@example.com"), "no")
	if err != nil || rec.State != StateRejected || len(rec.Approvals) != 1 {
		t.Fatalf("reject: %+v %v", rec, err)
	}
	if got := eventActions(t, f.s, "M"); len(got) != 3 || got[2] != ActionReject {
		t.Fatalf("events %v", got)
	}
}

func TestApproveWithTokenSubjects(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	r := approverRecord("M", 2, "a@example.com", "b@example.com")
	r.Deadline = f.clock.Now().Add(time.Hour)
	if err := f.s.Create(ctx, r, System, "policy"); err != nil {
		t.Fatal(err)
	}
	for i, who := range []string{"A@example.com", "a@example.com", "b@example.com"} {
		if err := f.s.AddToken(ctx, Token{Hash: tokenHash(i), MessageID: "M", Role: RoleApprover, Subject: who, Expires: r.Deadline}); err != nil {
			t.Fatal(err)
		}
	}
	// The page knows only "approver"; the token names the person.
	page := Actor{Name: "approver", Role: string(RoleApprover), IP: "192.0.2.9"}
	rec, err := f.s.ApproveWithToken(ctx, tokenHash(0), RoleApprover, page, "")
	if err != nil || rec.State != StateHeld || !rec.ApprovedBy("a@example.com") {
		t.Fatalf("first: %+v %v", rec, err)
	}
	if _, err := f.s.ApproveWithToken(ctx, tokenHash(0), RoleApprover, page, ""); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("reused token: %v", err)
	}
	// a's second link (say a reminder) is refused and stays unused.
	if _, err := f.s.ApproveWithToken(ctx, tokenHash(1), RoleApprover, page, ""); !errors.Is(err, ErrAlreadyApproved) {
		t.Fatalf("second link of the same approver: %v", err)
	}
	if tok, _, err := f.s.LookupToken(ctx, tokenHash(1), RoleApprover, f.clock.Now()); err != nil || !tok.UsedAt.IsZero() {
		t.Fatalf("refused approval used the token: %+v %v", tok, err)
	}
	rec, err = f.s.ApproveWithToken(ctx, tokenHash(2), RoleApprover, page, "")
	if err != nil || rec.State != StateReleased || rec.DecidedBy.Name != "b@example.com" || rec.DecidedBy.IP != "192.0.2.9" {
		t.Fatalf("second: %+v %v", rec, err)
	}
	// A rejection through a subject's token is theirs too.
	r2 := approverRecord("N", 2, "a@example.com", "b@example.com")
	r2.Deadline = r.Deadline
	if err := f.s.Create(ctx, r2, System, "policy"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddToken(ctx, Token{Hash: tokenHash(9), MessageID: "N", Role: RoleApprover, Subject: "b@example.com", Expires: r.Deadline}); err != nil {
		t.Fatal(err)
	}
	rec, err = f.s.TransitionWithToken(ctx, tokenHash(9), RoleApprover, StateRejected, page, "no")
	if err != nil || rec.DecidedBy.Name != "b@example.com" {
		t.Fatalf("reject: %+v %v", rec, err)
	}
}

func TestApproveAfterDeadline(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	r := approverRecord("M", 2, "a@example.com", "b@example.com")
	r.Deadline = f.clock.Now().Add(time.Hour)
	if err := f.s.Create(ctx, r, System, "policy"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Approve(ctx, "M", approverActor("a@example.com"), ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	rec, err := f.s.Approve(ctx, "M", approverActor("b@example.com"), "")
	var de *DecidedError
	if !errors.As(err, &de) || de.State != StateExpired || rec.State != StateExpired {
		t.Fatalf("late approval: %+v %v", rec, err)
	}
	if f.state("M") != StateExpired {
		t.Fatal("deadline not applied")
	}
}

func TestApproveSingle(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	// No approvals_required: the first approval releases, as before.
	f.create("A", KindApprover, 0)
	if rec, err := f.s.Approve(ctx, "A", approverActor("boss@example.com"), ""); err != nil || rec.State != StateReleased {
		t.Fatalf("single approver: %+v %v", rec, err)
	}
	// A review hold names no quorum: the reviewer's yes decides.
	f.create("R", KindReview, 0)
	if rec, err := f.s.Approve(ctx, "R", Actor{Name: "sec", Role: "reviewer"}, ""); err != nil || rec.State != StateReleased {
		t.Fatalf("review: %+v %v", rec, err)
	}
	if _, err := f.s.Approve(ctx, "R", Actor{}, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nameless approval: %v", err)
	}
}

func TestApprovalsRequiredValidated(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	bad := []*Record{
		approverRecord("M1", 3, "a@example.com", "b@example.com"),
		approverRecord("M2", -1, "a@example.com"),
	}
	rv := sampleRecord("M3", KindReview)
	rv.ApprovalsRequired = 2
	bad = append(bad, rv)
	for _, r := range bad {
		if err := f.s.Create(ctx, r, System, ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	// Approvals handed in are not trusted.
	r := approverRecord("M4", 2, "a@example.com", "b@example.com")
	r.Approvals = []Approval{{By: "a@example.com"}, {By: "b@example.com"}}
	if err := f.s.Create(ctx, r, System, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.Get(ctx, "M4"); len(got.Approvals) != 0 {
		t.Fatalf("approvals on create: %+v", got.Approvals)
	}
}

func TestApproveConcurrentQuorum(t *testing.T) {
	var released atomic.Int32
	f := newFixture(t, Options{OnRelease: func(*bbolt.Tx, *Record) error { released.Add(1); return nil }})
	ctx := context.Background()
	names := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}
	if err := f.s.Create(ctx, approverRecord("M", 2, names...), System, "policy"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok, decided atomic.Int32
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.Approve(ctx, "M", approverActor(names[i%len(names)]), "")
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrAlreadyDecided), errors.Is(err, ErrAlreadyApproved):
				decided.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rec, _ := f.s.Get(ctx, "M")
	if rec.State != StateReleased || len(rec.Approvals) != 2 || released.Load() != 1 || ok.Load() != 2 {
		t.Fatalf("state %s, %d approvals, %d releases, %d accepted", rec.State, len(rec.Approvals), released.Load(), ok.Load())
	}
	if rec.Approvals[0].By == rec.Approvals[1].By {
		t.Fatalf("one approver counted twice: %+v", rec.Approvals)
	}
	if got := eventActions(t, f.s, "M"); len(got) != 3 {
		t.Fatalf("events %v", got)
	}
}
