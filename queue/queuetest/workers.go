package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/spool"
)

// notice is a notice record as a step commits it (its file is the
// worker's business).
func notice() *spool.Record {
	now := time.Now()
	return &spool.Record{ID: spool.NewID(), Kind: spool.KindNotice, State: spool.StateQueued, NextAttempt: now,
		Expires: now.Add(time.Hour), Rcpts: []spool.Rcpt{{Addr: "alice@example.com", Status: spool.RcptPending}}}
}

// testSteps: a release's step commits its copies and notices with its
// removal and queues the message; a second commit of the same step, or
// one of a kind that is not first, writes nothing; a failure is counted
// and scheduled.
func testSteps(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := accept(t, s, true)
	if _, err := s.Decide(ctx, id, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishStep(ctx, id, spool.StepNotice, queue.StepResult{}); !errors.Is(err, queue.ErrStepStale) {
		t.Fatalf("a step that is not first finished: %v", err)
	}
	retry, err := s.FailStep(ctx, id, errors.New("disk full"), func(n int) time.Duration { return time.Duration(n) * time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	r := message(t, s, id)
	if st := r.Steps[0]; st.Attempts != 1 || st.LastError != "disk full" || !st.NextAttempt.Equal(retry) || time.Until(retry) < 30*time.Second {
		t.Fatalf("failed step recorded as %+v (retry %v)", st, retry)
	}
	n := notice()
	res := queue.StepResult{
		Release: &queue.Released{BodySuffix: "enc", RcptBodies: map[string]string{"b@partner.test": "link-b"}, Applied: []string{"encrypt"}},
		Notices: queue.Notices{Mails: []*spool.Record{n}},
	}
	if err := s.FinishStep(ctx, id, spool.StepRelease, res); err != nil {
		t.Fatal(err)
	}
	r = message(t, s, id)
	if r.State != spool.StateQueued || r.BodySuffix != "enc" || r.Rcpts[0].Body != "link-b" ||
		len(r.Applied) != 1 || len(r.Steps) != 1 || r.Steps[0].Kind != spool.StepNotice {
		t.Fatalf("after the release step: %+v", r)
	}
	if got := message(t, s, n.ID); got.Kind != spool.KindNotice || got.State != spool.StateQueued {
		t.Fatalf("notice committed as %+v", got)
	}
	if err := s.FinishStep(ctx, id, spool.StepRelease, res); !errors.Is(err, queue.ErrStepStale) {
		t.Fatalf("the release step finished twice: %v", err)
	}
	if err := s.FinishStep(ctx, id, spool.StepNotice, queue.StepResult{}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.WithSteps(ctx); len(ids) != 0 {
		t.Fatalf("steps left: %v", ids)
	}
}

// testStepOfDeleted: a message deleted while its release step runs stays
// deleted; the step's result is refused and its notices never commit.
func testStepOfDeleted(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := accept(t, s, true)
	if _, err := s.Decide(ctx, id, hold.StateReleased, admin, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id, admin, "spam"); err != nil {
		t.Fatal(err)
	}
	n := notice()
	err := s.FinishStep(ctx, id, spool.StepRelease, queue.StepResult{Release: &queue.Released{}, Notices: queue.Notices{Mails: []*spool.Record{n}}})
	if !errors.Is(err, queue.ErrStepStale) {
		t.Fatalf("release step of a deleted message: %v", err)
	}
	if r := message(t, s, id); r.State != spool.StateDeleted {
		t.Fatalf("state %s, want deleted", r.State)
	}
	if _, err := s.Message(ctx, n.ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("notice of a refused step committed: %v", err)
	}
}

// testAttempts: a delivery attempt's result commits only while the
// message is queued; retry and park are refused in other states.
func testAttempts(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	id := accept(t, s, false)
	if err := s.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	r := message(t, s, id)
	r.Rcpts[0].Status, r.State, r.Attempts = spool.RcptFailed, spool.StateBounced, 1
	dsn := notice()
	dsn.Kind = spool.KindDSN
	if err := s.FinishAttempt(ctx, queue.Attempt{Message: r, DSN: dsn}); err != nil {
		t.Fatal(err)
	}
	if got := message(t, s, id); got.State != spool.StateBounced || got.Attempts != 1 {
		t.Fatalf("after the attempt: %+v", got)
	}
	if got := message(t, s, dsn.ID); got.Kind != spool.KindDSN {
		t.Fatalf("DSN committed as %+v", got)
	}
	if err := s.FinishAttempt(ctx, queue.Attempt{Message: r}); !errors.Is(err, queue.ErrStale) {
		t.Fatalf("a finished message took a second result: %v", err)
	}
	for name, err := range map[string]error{"retry": s.Retry(ctx, id), "park": s.Park(ctx, id, "x")} {
		if !errors.Is(err, queue.ErrIllegal) {
			t.Fatalf("%s of a bounced message: %v", name, err)
		}
	}
	if err := s.Retry(ctx, spool.NewID()); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("retry of no message: %v", err)
	}
	id = accept(t, s, false)
	if err := s.Park(ctx, id, "internal error during delivery"); err != nil {
		t.Fatal(err)
	}
	if got := message(t, s, id); got.State != spool.StateHeld || got.LastError == "" {
		t.Fatalf("parked as %+v", got)
	}
}

// testRewriteStep: a message accepted with its rewrites still to run is
// released with that step and nothing delivers it; the step's result
// queues it with its copy, or holds it for review (a hold decided like
// any other), and a delete leaves no step to run.
func testRewriteStep(t *testing.T, open func(testing.TB) Subject) {
	ctx := context.Background()
	s := open(t)
	acceptRewrite := func() string {
		t.Helper()
		id := spool.NewID()
		rec := &spool.Record{ID: id, Kind: spool.KindMail, MailFrom: "alice@example.com",
			Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()}
		if err := s.AcceptRewrite(ctx, rec, spool.Step{Kind: spool.StepRewrite, Actions: []string{"encrypt"}}); err != nil {
			t.Fatal(err)
		}
		if r := message(t, s, id); r.State != spool.StateReleased || len(r.Steps) != 1 || r.Steps[0].Kind != spool.StepRewrite {
			t.Fatalf("accepted as %s with steps %+v", r.State, r.Steps)
		}
		return id
	}
	id := acceptRewrite()
	// Nothing delivers it before its rewrite.
	r := message(t, s, id)
	r.Rcpts[0].Status, r.State = spool.RcptDelivered, spool.StateDelivered
	if err := s.FinishAttempt(ctx, queue.Attempt{Message: r}); !errors.Is(err, queue.ErrStale) {
		t.Fatalf("a delivery's result before the rewrite: %v", err)
	}
	if err := s.Retry(ctx, id); !errors.Is(err, queue.ErrIllegal) {
		t.Fatalf("retry before the rewrite: %v", err)
	}
	if err := s.FinishStep(ctx, id, spool.StepRewrite, queue.StepResult{Release: &queue.Released{BodySuffix: "enc"}}); err != nil {
		t.Fatal(err)
	}
	if r := message(t, s, id); r.State != spool.StateQueued || r.BodySuffix != "enc" || len(r.Steps) != 0 {
		t.Fatalf("after the rewrite: %s, copy %q, steps %v", r.State, r.BodySuffix, r.Steps)
	}

	id = acceptRewrite()
	hr := &hold.Record{ID: id, Kind: hold.KindReview, Sender: "alice@example.com", Deadline: time.Now().Add(time.Hour),
		Decision: hold.Decision{Actions: []string{"hold_review"}}}
	n := notice()
	err := s.FinishStep(ctx, id, spool.StepRewrite, queue.StepResult{Notices: queue.Notices{Mails: []*spool.Record{n}},
		Hold: &queue.HeldStep{Hold: hr, Reason: "rewrite failed: broken", Applied: []string{"hold_review"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := message(t, s, id); r.State != spool.StateHeld || len(r.Steps) != 0 {
		t.Fatalf("after a failed rewrite: %s, steps %v", r.State, r.Steps)
	}
	if got := message(t, s, n.ID); got.Kind != spool.KindNotice || got.State != spool.StateQueued {
		t.Fatalf("the hold's notice committed as %+v", got)
	}
	if _, err := s.Decide(ctx, id, hold.StateReleased, admin, "checked", ""); err != nil {
		t.Fatal(err)
	}
	if r := message(t, s, id); r.State != spool.StateReleased || len(r.Steps) == 0 || r.Steps[0].Kind != spool.StepRelease {
		t.Fatalf("released after review: %s, steps %+v", r.State, r.Steps)
	}
	evs, err := s.Events(ctx, id)
	if err != nil || len(evs) < 2 || evs[0].Action != hold.ActionHold || evs[0].Reason != "rewrite failed: broken" {
		t.Fatalf("events %+v, %v", evs, err)
	}

	id = acceptRewrite()
	if err := s.Delete(ctx, id, admin, "spam"); err != nil {
		t.Fatal(err)
	}
	if r := message(t, s, id); r.State != spool.StateDeleted || len(r.Steps) != 0 {
		t.Fatalf("deleted before its rewrite: %s, steps %v", r.State, r.Steps)
	}
	if err := s.FinishStep(ctx, id, spool.StepRewrite, queue.StepResult{Release: &queue.Released{}}); !errors.Is(err, queue.ErrStepStale) {
		t.Fatalf("the rewrite's result after the delete: %v", err)
	}
}
