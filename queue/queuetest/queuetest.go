// Package queuetest is the contract of the message state machine: one
// suite that every store behind package queue runs (today bbolt; a
// PostgreSQL store for several nodes must pass it unchanged).
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// Subject is a store under test, opened empty for each test.
type Subject interface {
	// Accept stores a message and, when h is not nil, its hold, in one
	// transaction.
	Accept(ctx context.Context, rec *spool.Record, h *hold.Record) error
	// AcceptRewrite stores a message released with its rewrite step (an
	// acceptance whose rewrites run after the reply).
	AcceptRewrite(ctx context.Context, rec *spool.Record, step spool.Step) error
	// Message reads a message's record; queue.ErrNotFound if none.
	Message(ctx context.Context, id string) (*spool.Record, error)
	Decide(ctx context.Context, id string, to hold.State, actor hold.Actor, reason string, mode hold.ReleaseMode) (*hold.Record, error)
	// Approve records one approver's approval (actor.Name) as
	// queue.Queue.Approve does: N distinct approvals of an approver hold
	// release it, fewer leave it held.
	Approve(ctx context.Context, id string, actor hold.Actor, reason string) (*hold.Record, error)
	Delete(ctx context.Context, id string, actor hold.Actor, reason string) error
	Events(ctx context.Context, id string) ([]hold.Event, error)
	// Tick applies every deadline passed by now.
	Tick(ctx context.Context, now time.Time) (int, error)
	// WithSteps lists messages with recorded steps.
	WithSteps(ctx context.Context) ([]string, error)
	// The typed results of the workers, as queue.Queue has them.
	FinishStep(ctx context.Context, id string, k spool.StepKind, res queue.StepResult) error
	FailStep(ctx context.Context, id string, cause error, backoff func(attempts int) time.Duration) (time.Time, error)
	FinishAttempt(ctx context.Context, a queue.Attempt) error
	Park(ctx context.Context, id, reason string) error
	Retry(ctx context.Context, id string) error
}

var admin = hold.Actor{Name: "admin", Role: "admin"}

// Run runs the contract against stores made by open.
func Run(t *testing.T, open func(testing.TB) Subject) {
	t.Run("Decisions", func(t *testing.T) { testDecisions(t, open) })
	t.Run("Illegal", func(t *testing.T) { testIllegal(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("ConcurrentReleases", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("NofM", func(t *testing.T) { testNofM(t, open) })
	t.Run("NofMReject", func(t *testing.T) { testNofMReject(t, open) })
	t.Run("NofMConcurrent", func(t *testing.T) { testNofMConcurrent(t, open) })
	t.Run("Steps", func(t *testing.T) { testSteps(t, open) })
	t.Run("StepOfDeleted", func(t *testing.T) { testStepOfDeleted(t, open) })
	t.Run("RewriteStep", func(t *testing.T) { testRewriteStep(t, open) })
	t.Run("Attempts", func(t *testing.T) { testAttempts(t, open) })
}

func accept(t testing.TB, s Subject, held bool) string {
	t.Helper()
	id := spool.NewID()
	st := spool.StateQueued
	var h *hold.Record
	if held {
		st = spool.StateHeld
		h = &hold.Record{ID: id, Kind: hold.KindReview, Sender: "alice@example.com",
			Deadline: time.Now().Add(time.Hour), Decision: hold.Decision{Actions: []string{"hold_review", "link"}}}
	}
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: st, MailFrom: "alice@example.com",
		Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
	if err := s.Accept(context.Background(), rec, h); err != nil {
		t.Fatal(err)
	}
	return id
}

func message(t testing.TB, s Subject, id string) *spool.Record {
	t.Helper()
	r, err := s.Message(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testDecisions(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	cases := []struct {
		to    hold.State
		want  spool.State
		steps []spool.StepKind
	}{
		{hold.StateReleased, spool.StateReleased, []spool.StepKind{spool.StepRelease, spool.StepNotice}},
		{hold.StateRejected, spool.StateRejected, []spool.StepKind{spool.StepNotice}},
		{hold.StateCancelled, spool.StateCancelled, []spool.StepKind{spool.StepNotice}},
		{hold.StateExpired, spool.StateExpired, []spool.StepKind{spool.StepNotice}},
	}
	for _, c := range cases {
		t.Run(string(c.to), func(t *testing.T) {
			s := open(t)
			id := accept(t, s, true)
			if _, err := s.Decide(ctx, id, c.to, admin, "why", ""); err != nil {
				t.Fatal(err)
			}
			r := message(t, s, id)
			if r.State != c.want || len(r.Steps) != len(c.steps) {
				t.Fatalf("state %s steps %+v", r.State, r.Steps)
			}
			for i, k := range c.steps {
				if r.Steps[i].Kind != k {
					t.Fatalf("step %d is %s, want %s", i, r.Steps[i].Kind, k)
				}
			}
			if c.to == hold.StateReleased && (len(r.Steps[0].Actions) != 2 || r.Steps[0].Mode != string(hold.ModeAsIs)) {
				t.Fatalf("release step %+v", r.Steps[0])
			}
			if ids, _ := s.WithSteps(ctx); len(ids) != 1 || ids[0] != id {
				t.Fatalf("messages with steps: %v", ids)
			}
			if ev, _ := s.Events(ctx, id); len(ev) != 2 {
				t.Fatalf("%d audit events, want the hold and the decision", len(ev))
			}
		})
	}
}

func testIllegal(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	var se *queue.StateError
	queued := accept(t, s, false)
	if _, err := s.Decide(ctx, queued, hold.StateReleased, admin, "", ""); !errors.As(err, &se) || se.State != "queued" {
		t.Fatalf("release of a queued message: %v", err)
	}
	if _, err := s.Decide(ctx, spool.NewID(), hold.StateReleased, admin, "", ""); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("release of an unknown message: %v", err)
	}
	held := accept(t, s, true)
	if _, err := s.Decide(ctx, held, hold.StateRejected, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.Decide(ctx, held, hold.StateReleased, admin, "", "")
	if !errors.As(err, &se) || !errors.Is(err, queue.ErrIllegal) || se.State != "rejected" || se.By != "admin" {
		t.Fatalf("release of a rejected message: %v", err)
	}
	if err := s.Delete(ctx, held, admin, ""); !errors.Is(err, queue.ErrIllegal) {
		t.Fatalf("delete of a rejected message: %v", err)
	}
}

func testDelete(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	held := accept(t, s, true)
	queued := accept(t, s, false)
	released := accept(t, s, true)
	if _, err := s.Decide(ctx, released, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{held, queued, released} {
		if err := s.Delete(ctx, id, admin, "cleanup"); err != nil {
			t.Fatal(err)
		}
		r := message(t, s, id)
		if r.State != spool.StateDeleted {
			t.Fatalf("state %s after delete", r.State)
		}
		for _, st := range r.Steps {
			if st.Kind == spool.StepRelease {
				t.Fatal("a release step survived the deletion")
			}
		}
		ev, _ := s.Events(ctx, id)
		if last := ev[len(ev)-1]; last.Action != hold.ActionDelete || last.Actor != admin {
			t.Fatalf("last event %+v", last)
		}
	}
	// The deleted hold's deadline passes in silence.
	if n, err := s.Tick(ctx, time.Now().Add(2*time.Hour)); n != 0 || err != nil {
		t.Fatalf("tick after delete: %d %v", n, err)
	}
	if err := s.Delete(ctx, held, admin, ""); !errors.Is(err, queue.ErrIllegal) {
		t.Fatalf("second delete: %v", err)
	}
}

func testConcurrent(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := accept(t, s, true)
	ok := releaseAtOnce(t, id, 30, s)
	steps := releaseSteps(t, s, id)
	if ev, _ := s.Events(ctx, id); ok != 1 || steps != 1 || len(ev) != 2 {
		t.Fatalf("%d releases succeeded, %d release steps, %d events", ok, steps, len(ev))
	}
}

var approvers = []string{"a@example.com", "b@example.com", "c@example.com"}

func approver(name string) hold.Actor {
	return hold.Actor{Name: name, Role: string(hold.RoleApprover), IP: "192.0.2.1"}
}

// acceptApproval stores a message held for 2 of the 3 approvers.
func acceptApproval(t testing.TB, s Subject) string {
	t.Helper()
	id := spool.NewID()
	h := &hold.Record{ID: id, Kind: hold.KindApprover, Sender: "alice@example.com",
		Approvers: approvers, ApprovalsRequired: 2,
		Deadline: time.Now().Add(time.Hour), Decision: hold.Decision{Actions: []string{"hold_approver"}}}
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: "alice@example.com",
		Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
	if err := s.Accept(context.Background(), rec, h); err != nil {
		t.Fatal(err)
	}
	return id
}

func actions(t testing.TB, s Subject, id string) []string {
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

// testNofM: the first approval is recorded on the hold and audited but
// moves nothing; a repeat or an outsider changes nothing; the second
// distinct approval is the one release.
func testNofM(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := acceptApproval(t, s)
	h, err := s.Approve(ctx, id, approver("a@example.com"), "")
	if err != nil || h.State != hold.StateHeld || len(h.Approvals) != 1 || h.Approvals[0].By != "a@example.com" || h.Required() != 2 {
		t.Fatalf("first approval: %+v %v", h, err)
	}
	if r := message(t, s, id); r.State != spool.StateHeld || len(r.Steps) != 0 {
		t.Fatalf("after one approval: state %s steps %+v", r.State, r.Steps)
	}
	if got := actions(t, s, id); len(got) != 2 || got[1] != hold.ActionApprove {
		t.Fatalf("events %v", got)
	}
	h, err = s.Approve(ctx, id, approver("A@Example.com"), "")
	if !errors.Is(err, hold.ErrAlreadyApproved) || h == nil || len(h.Approvals) != 1 {
		t.Fatalf("repeat approval: %+v %v", h, err)
	}
	if _, err := s.Approve(ctx, id, approver("mallory@example.com"), ""); !errors.Is(err, hold.ErrNotApprover) {
		t.Fatalf("outsider: %v", err)
	}
	if got := actions(t, s, id); len(got) != 2 {
		t.Fatalf("refused approvals wrote events: %v", got)
	}
	h, err = s.Approve(ctx, id, approver("c@example.com"), "")
	if err != nil || h.State != hold.StateReleased || h.DecidedBy.Name != "c@example.com" || len(h.Approvals) != 2 {
		t.Fatalf("second approval: %+v %v", h, err)
	}
	r := message(t, s, id)
	if r.State != spool.StateReleased || len(r.Steps) != 2 || r.Steps[0].Kind != spool.StepRelease || r.Steps[1].Kind != spool.StepNotice {
		t.Fatalf("after release: state %s steps %+v", r.State, r.Steps)
	}
	if got := actions(t, s, id); len(got) != 3 || got[2] != hold.ActionRelease {
		t.Fatalf("events %v", got)
	}
	var se *queue.StateError
	if _, err := s.Approve(ctx, id, approver("b@example.com"), ""); !errors.As(err, &se) || se.State != "released" {
		t.Fatalf("approval after release: %v", err)
	}
}

// testNofMReject: one approver's rejection ends the hold whatever the
// others approved.
func testNofMReject(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := acceptApproval(t, s)
	if _, err := s.Approve(ctx, id, approver("a@example.com"), ""); err != nil {
		t.Fatal(err)
	}
	h, err := s.Decide(ctx, id, hold.StateRejected, approver("b@example.com"), "no", "")
	if err != nil || h.State != hold.StateRejected {
		t.Fatalf("reject: %+v %v", h, err)
	}
	if r := message(t, s, id); r.State != spool.StateRejected {
		t.Fatalf("state %s", r.State)
	}
	var se *queue.StateError
	if _, err := s.Approve(ctx, id, approver("c@example.com"), ""); !errors.As(err, &se) || se.State != "rejected" {
		t.Fatalf("approval after rejection: %v", err)
	}
}

// testNofMConcurrent: all approvers at once give exactly one release and
// exactly two recorded approvals.
func testNofMConcurrent(t *testing.T, open func(testing.TB) Subject) {
	s := open(t)
	id := acceptApproval(t, s)
	ok := approveAtOnce(t, id, 3, s)
	steps := releaseSteps(t, s, id)
	if got := actions(t, s, id); ok != 2 || steps != 1 || len(got) != 3 {
		t.Fatalf("%d approvals accepted, %d release steps, events %v", ok, steps, got)
	}
}

// RunCluster runs the contract of several nodes sharing one held queue:
// open returns two nodes (each with its own spool) on one shared store.
// A message's steps live with the node that runs them.
func RunCluster(t *testing.T, open func(testing.TB) (a, b Subject)) {
	t.Run("ReleaseOnOtherNode", func(t *testing.T) { testOtherNode(t, open) })
	t.Run("ConcurrentReleasesAcrossNodes", func(t *testing.T) { testConcurrentNodes(t, open) })
	t.Run("DeadlineOnOtherNode", func(t *testing.T) { testDeadlineOtherNode(t, open) })
	t.Run("NofMAcrossNodes", func(t *testing.T) { testNofMNodes(t, open) })
}

// Approvers approving on both nodes at once, each several times: each
// counts once, the second distinct one releases, once.
func testNofMNodes(t *testing.T, open func(testing.TB) (Subject, Subject)) {
	a, b := open(t)
	id := acceptApproval(t, a)
	ok := approveAtOnce(t, id, 4, a, b)
	steps := releaseSteps(t, a, id) + releaseSteps(t, b, id)
	if got := actions(t, b, id); ok != 2 || steps != 1 || len(got) != 3 || got[1] != hold.ActionApprove || got[2] != hold.ActionRelease {
		t.Fatalf("%d approvals accepted, %d release steps over both nodes, events %v", ok, steps, got)
	}
}

// releaseAtOnce has n reviewers release id at once, spread over the nodes
// in turn, and returns how many releases succeeded; the others must be
// refused as already released.
func releaseAtOnce(t testing.TB, id string, n int, nodes ...Subject) int {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		node := nodes[i%len(nodes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := node.Decide(context.Background(), id, hold.StateReleased, hold.Actor{Name: fmt.Sprintf("r%d", i), Role: "reviewer"}, "", "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		var se *queue.StateError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &se) && se.State == "released":
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return ok
}

// approveAtOnce has every approver approve id rounds times at once,
// spread over the nodes in turn, and returns how many approvals were
// accepted; the others must be refused as repeated or too late.
func approveAtOnce(t testing.TB, id string, rounds int, nodes ...Subject) int {
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(approvers))
	for i := range rounds * len(approvers) {
		node := nodes[i%len(nodes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := node.Approve(context.Background(), id, approver(approvers[i%len(approvers)]), "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		var se *queue.StateError
		switch {
		case err == nil:
			ok++
		case errors.Is(err, hold.ErrAlreadyApproved), errors.As(err, &se) && (se.State == "released" || se.State == "delivered"):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return ok
}

// releaseSteps counts release steps of id on a node (zero when the
// message is not that node's own).
func releaseSteps(t testing.TB, s Subject, id string) int {
	n := 0
	for _, st := range message(t, s, id).Steps {
		if st.Kind == spool.StepRelease {
			n++
		}
	}
	return n
}

func testOtherNode(t *testing.T, open func(testing.TB) (Subject, Subject)) {
	ctx := context.Background()
	a, b := open(t)
	id := accept(t, a, true)
	if r := message(t, b, id); r.State != spool.StateHeld {
		t.Fatalf("node B sees %s, want held", r.State)
	}
	reviewer := hold.Actor{Name: "reviewer", Role: "reviewer", IP: "192.0.2.7"}
	if _, err := b.Decide(ctx, id, hold.StateReleased, reviewer, "ok", hold.ModeBcc); err != nil {
		t.Fatal(err)
	}
	if rb := message(t, b, id); rb.State != spool.StateReleased || releaseSteps(t, b, id) != 1 || rb.Steps[0].Mode != string(hold.ModeBcc) {
		t.Fatalf("on node B after its release: %s %+v", rb.State, rb.Steps)
	}
	if ra := message(t, a, id); ra.State != spool.StateReleased || len(ra.Steps) != 0 {
		t.Fatalf("on node A: %s %+v (the release belongs to B)", ra.State, ra.Steps)
	}
	var se *queue.StateError
	if _, err := a.Decide(ctx, id, hold.StateRejected, admin, "", ""); !errors.As(err, &se) || se.State != "released" || se.By != "reviewer" {
		t.Fatalf("reject on A after B released: %v", err)
	}
	ev, err := a.Events(ctx, id)
	if err != nil || len(ev) != 2 || ev[1].Action != hold.ActionRelease || ev[1].Actor != reviewer {
		t.Fatalf("events seen from A: %+v %v", ev, err)
	}
}

func testConcurrentNodes(t *testing.T, open func(testing.TB) (Subject, Subject)) {
	ctx := context.Background()
	a, b := open(t)
	id := accept(t, a, true)
	ok := releaseAtOnce(t, id, 30, a, b)
	steps := releaseSteps(t, a, id) + releaseSteps(t, b, id)
	ev, _ := b.Events(ctx, id)
	releases := 0
	for _, e := range ev {
		if e.Action == hold.ActionRelease {
			releases++
		}
	}
	if ok != 1 || steps != 1 || releases != 1 {
		t.Fatalf("%d releases succeeded, %d release steps over both nodes, %d release events", ok, steps, releases)
	}
}

// A delay held on node A is released by node B's timer (A no longer runs
// its own), once, and lands on B.
func testDeadlineOtherNode(t *testing.T, open func(testing.TB) (Subject, Subject)) {
	ctx := context.Background()
	a, b := open(t)
	id := spool.NewID()
	h := &hold.Record{ID: id, Kind: hold.KindDelay, Sender: "alice@example.com",
		Deadline: time.Now().Add(time.Minute), Decision: hold.Decision{Actions: []string{"delay"}}}
	rec := &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: "alice@example.com",
		Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
	if err := a.Accept(ctx, rec, h); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Tick(ctx, time.Now()); n != 0 || err != nil {
		t.Fatalf("tick before the deadline: %d %v", n, err)
	}
	later := time.Now().Add(2 * time.Minute)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, s := range []Subject{b, b} { // two timers on B racing
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _ = s.Tick(ctx, later)
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 || releaseSteps(t, b, id) != 1 || releaseSteps(t, a, id) != 0 {
		t.Fatalf("ticks decided %v; release steps B %d A %d", counts, releaseSteps(t, b, id), releaseSteps(t, a, id))
	}
	if n, err := a.Tick(ctx, later); n != 0 || err != nil {
		t.Fatalf("A's tick after B's: %d %v", n, err)
	}
}
