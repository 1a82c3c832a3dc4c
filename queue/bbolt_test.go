package queue_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/queuetest"
	"github.com/sendguard/sendguard/spool"
)

// bboltSubject is the bbolt store (spool and hold on one database) under
// the contract.
type bboltSubject struct{ *queue.Queue }

func (s bboltSubject) Accept(ctx context.Context, rec *spool.Record, h *hold.Record) error {
	bw, err := s.Spool.Create(rec.ID)
	if err != nil {
		return err
	}
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	if rec.SHA256, err = bw.Commit(); err != nil {
		return err
	}
	return s.Queue.Accept(ctx, queue.Acceptance{Message: rec, Hold: h, HoldReason: "test"})
}

func (s bboltSubject) AcceptRewrite(ctx context.Context, rec *spool.Record, step spool.Step) error {
	rec.Inline = []byte("Subject: x\r\n\r\nbody\r\n")
	return s.Queue.Accept(ctx, queue.Acceptance{Message: rec, Rewrite: &step})
}

func (s bboltSubject) Message(_ context.Context, id string) (*spool.Record, error) {
	r, err := s.Spool.Get(id)
	if errors.Is(err, spool.ErrNotFound) {
		return nil, queue.ErrNotFound
	}
	return r, err
}

func (s bboltSubject) Tick(ctx context.Context, now time.Time) (int, error) {
	return s.Holds.Tick(ctx, now)
}

func (s bboltSubject) WithSteps(context.Context) ([]string, error) { return s.Spool.WithSteps(1000) }

func TestBboltContract(t *testing.T) {
	queuetest.Run(t, func(t testing.TB) queuetest.Subject {
		sp, err := spool.Open(t.TempDir(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sp.Close() })
		q, err := queue.Open(sp, queue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return bboltSubject{q}
	})
}
