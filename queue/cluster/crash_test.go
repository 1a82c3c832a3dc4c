package cluster_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/queue"
	"github.com/sendguard/sendguard/queue/cluster"
	"github.com/sendguard/sendguard/queue/pgstore"
	"github.com/sendguard/sendguard/spool"
)

// restartable is a node whose spool can be closed and opened again on the
// same directory, as a process restart would.
type restartable struct {
	t    *testing.T
	pool *pgxpool.Pool
	name string
	dir  string
	sp   *spool.Store
	node *cluster.Node
}

func newRestartable(t *testing.T, pool *pgxpool.Pool, name string) *restartable {
	r := &restartable{t: t, pool: pool, name: name, dir: t.TempDir()}
	r.start()
	t.Cleanup(func() { r.sp.Close() })
	return r
}

func (r *restartable) start() {
	sp, err := spool.Open(r.dir, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	q, err := queue.Open(sp, queue.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	shared, err := pgstore.New(context.Background(), r.pool, pgstore.Options{Node: r.name})
	if err != nil {
		r.t.Fatal(err)
	}
	r.sp, r.node = sp, cluster.New(q, shared, cluster.Options{})
}

func (r *restartable) restart() {
	r.sp.Close()
	r.start()
}

func heldMessage(id string) (*spool.Record, *hold.Record) {
	return &spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: "alice@example.com",
			Rcpts: []spool.Rcpt{{Addr: "b@partner.test", Status: spool.RcptPending}}, NextAttempt: time.Now()},
		&hold.Record{ID: id, Kind: hold.KindReview, Sender: "alice@example.com", Decision: hold.Decision{Actions: []string{"hold_review"}}}
}

// acceptLocal accepts a held message on a node as the gateway does,
// without exporting it.
func acceptLocal(t *testing.T, n *cluster.Node) string {
	t.Helper()
	id := spool.NewID()
	rec, h := heldMessage(id)
	s := subject{n}
	bw, _ := s.Local.Spool.Create(id)
	bw.Write([]byte("Subject: held\r\n\r\nbody\r\n"))
	var err error
	if rec.SHA256, err = bw.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Local.Spool.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Local.Holds.Create(context.Background(), h, hold.System, "policy"); err != nil {
		t.Fatal(err)
	}
	return id
}

func countRows(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A node stopped after copying a held message to PostgreSQL but before
// removing its own copy exports it again on start: one row, one hold
// event, no local copy left.
func TestExportCrashBetweenCopyAndRemoval(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	a := newRestartable(t, pool, "a")
	id := acceptLocal(t, a.node)
	// The copy as Export makes it, then the "crash".
	rec, _ := a.node.Local.Spool.Get(id)
	h, _ := a.node.Local.Holds.Get(ctx, id)
	body := []byte("Subject: held\r\n\r\nbody\r\n")
	if _, err := a.node.Shared.Insert(ctx, h, rec, body, nil, hold.System, "policy"); err != nil {
		t.Fatal(err)
	}
	a.restart()
	if n, err := a.node.ExportPending(ctx); n != 1 || err != nil {
		t.Fatalf("export on start: %d %v", n, err)
	}
	if _, err := a.node.Local.Spool.Get(id); err == nil {
		t.Fatal("local copy kept after export")
	}
	if n := countRows(t, pool, "SELECT count(*) FROM held_messages WHERE id = $1", id); n != 1 {
		t.Fatalf("%d rows", n)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM audit_events WHERE message_id = $1", id); n != 1 {
		t.Fatalf("%d audit events for one hold", n)
	}
	if n, _ := a.node.ExportPending(ctx); n != 0 {
		t.Fatalf("exported %d again", n)
	}
}

// A node stopped after its decision committed but before it landed the
// message lands it on start, once; a landing whose mark was lost is only
// marked.
func TestLandAfterRestart(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	a, b := newRestartable(t, pool, "a"), newRestartable(t, pool, "b")
	id := acceptLocal(t, a.node)
	if err := a.node.Export(ctx, id); err != nil {
		t.Fatal(err)
	}
	// B decides in PostgreSQL and "crashes" before landing.
	if _, err := b.node.Shared.Decide(ctx, id, hold.StateReleased, hold.Actor{Name: "rev", Role: "reviewer"}, "", ""); err != nil {
		t.Fatal(err)
	}
	// A cannot land B's decision.
	if n, _ := a.node.LandPending(ctx); n != 0 {
		t.Fatalf("node A landed %d of B's decisions", n)
	}
	b.restart()
	if n, err := b.node.LandPending(ctx); n != 1 || err != nil {
		t.Fatalf("land on start: %d %v", n, err)
	}
	rec, err := b.node.Local.Spool.Get(id)
	if err != nil || rec.State != spool.StateReleased || len(rec.Steps) == 0 || rec.Steps[0].Kind != spool.StepRelease {
		t.Fatalf("landed record %+v %v", rec, err)
	}
	f, err := b.node.Local.Spool.OpenBody(id)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The mark is lost (crash after the local commit): landing again only
	// marks it.
	if _, err := pool.Exec(ctx, "UPDATE held_messages SET landed = false WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	b.restart()
	if n, err := b.node.LandPending(ctx); n != 1 || err != nil {
		t.Fatalf("second landing: %d %v", n, err)
	}
	if rec2, _ := b.node.Local.Spool.Get(id); len(rec2.Steps) != len(rec.Steps) {
		t.Fatalf("steps after a second landing: %+v", rec2.Steps)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM held_messages WHERE NOT landed"); n != 0 {
		t.Fatalf("%d unlanded", n)
	}
}

// While PostgreSQL is down, held mail stays in the node's spool and the
// node says the shared store is unavailable; once it is back, the mail is
// exported and a decision works.
func TestDatabaseDown(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	pool, err := pgstore.Connect(ctx, srv.NewDB(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	a := newRestartable(t, pool, "a")
	if err := a.node.Available(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := a.node.Available(ctx, time.Second); err == nil {
		t.Fatal("available with the database stopped")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("availability check took %v", d)
	}
	id := acceptLocal(t, a.node)
	if _, err := a.node.ExportPending(ctx); err == nil {
		t.Fatal("exported with the database stopped")
	}
	if rec, err := a.node.Local.Spool.Get(id); err != nil || rec.State != spool.StateHeld {
		t.Fatalf("local copy while the database is down: %+v %v", rec, err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if n, err := a.node.ExportPending(ctx); n != 1 || err != nil {
		t.Fatalf("export after the restart: %d %v", n, err)
	}
	if _, err := a.node.Decide(ctx, id, hold.StateReleased, hold.Actor{Name: "rev", Role: "reviewer"}, "", ""); err != nil {
		t.Fatal(err)
	}
	if rec, _ := a.node.Local.Spool.Get(id); rec == nil || rec.State != spool.StateReleased {
		t.Fatalf("after release: %+v", rec)
	}
}

// The export worker and decisions may export the same message at once:
// every call succeeds, one row, one hold event, no local copy.
func TestConcurrentExports(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	a := newRestartable(t, pool, "a")
	id := acceptLocal(t, a.node)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- a.node.Export(ctx, id)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.node.Local.Spool.Get(id); err == nil {
		t.Fatal("local copy kept")
	}
	if n := countRows(t, pool, "SELECT count(*) FROM audit_events WHERE message_id = $1", id); n != 1 {
		t.Fatalf("%d hold events", n)
	}
}
