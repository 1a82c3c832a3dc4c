package cluster_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/cluster"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/queue/queuetest"
	"github.com/sendguard/sendguard/spool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// subject is one node under the queue contract: a message is accepted as
// the gateway does (local spool and hold in one commit) and then exported
// as the node's worker does.
type subject struct{ *cluster.Node }

func (s subject) Accept(ctx context.Context, rec *spool.Record, h *hold.Record) error {
	bw, err := s.Local.Spool.Create(rec.ID)
	if err != nil {
		return err
	}
	bw.Write([]byte("Subject: x\r\n\r\nbody " + rec.ID + "\r\n"))
	if rec.SHA256, err = bw.Commit(); err != nil {
		return err
	}
	err = s.Local.Spool.Accept(rec, func(tx *bbolt.Tx) error {
		if h == nil {
			return nil
		}
		return s.Local.Holds.CreateTx(tx, h, hold.System, "test")
	})
	if err != nil || h == nil {
		return err
	}
	return s.Export(ctx, rec.ID)
}

func (s subject) AcceptRewrite(ctx context.Context, rec *spool.Record, step spool.Step) error {
	rec.Inline = []byte("Subject: x\r\n\r\nbody " + rec.ID + "\r\n")
	return s.Local.Accept(ctx, queue.Acceptance{Message: rec, Rewrite: &step})
}

func (s subject) WithSteps(context.Context) ([]string, error) { return s.Local.Spool.WithSteps(1000) }

// sharedPool is a migrated database of its own for one test.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgstore.Connect(ctx, pgtest.New(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// openNode starts a node with its own spool directory on pool.
func openNode(t testing.TB, pool *pgxpool.Pool, name, dir string) *cluster.Node {
	t.Helper()
	sp, err := spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	q, err := queue.Open(sp, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := pgstore.New(context.Background(), pool, pgstore.Options{Node: name})
	if err != nil {
		t.Fatal(err)
	}
	return cluster.New(q, shared, cluster.Options{})
}

func TestPostgresContract(t *testing.T) {
	queuetest.Run(t, func(t testing.TB) queuetest.Subject {
		return subject{openNode(t, sharedPool(t), "a", t.TempDir())}
	})
}

func TestPostgresClusterContract(t *testing.T) {
	queuetest.RunCluster(t, func(t testing.TB) (queuetest.Subject, queuetest.Subject) {
		pool := sharedPool(t)
		return subject{openNode(t, pool, "a", t.TempDir())}, subject{openNode(t, pool, "b", t.TempDir())}
	})
}

// The workers run on the node that holds the message: steps and attempts
// commit to its local queue.
func (s subject) FinishStep(ctx context.Context, id string, k spool.StepKind, res queue.StepResult) error {
	if err := s.Local.FinishStep(ctx, id, k, res); err != nil || res.Hold == nil {
		return err
	}
	// Held by its step: exported as the node's worker does once the step
	// worker wakes it.
	return s.Export(ctx, id)
}

func (s subject) FailStep(ctx context.Context, id string, cause error, backoff func(int) time.Duration) (time.Time, error) {
	return s.Local.FailStep(ctx, id, cause, backoff)
}

func (s subject) FinishAttempt(ctx context.Context, a queue.Attempt) error {
	return s.Local.FinishAttempt(ctx, a)
}

func (s subject) Park(ctx context.Context, id, reason string) error {
	return s.Local.Park(ctx, id, reason)
}
