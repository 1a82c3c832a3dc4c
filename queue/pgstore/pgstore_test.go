package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/spool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := Connect(context.Background(), pgtest.New(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func migrated(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := connect(t)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func open(t testing.TB, pool *pgxpool.Pool, node string) *Store {
	t.Helper()
	s, err := New(context.Background(), pool, Options{Node: node})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var reviewer = hold.Actor{Name: "rev", Role: "reviewer", IP: "192.0.2.1"}

func insert(t testing.TB, s *Store, kind hold.Kind, deadline time.Time) string {
	t.Helper()
	id := spool.NewID()
	body := []byte("Subject: t\r\n\r\n" + strings.Repeat("line of a held message\r\n", 200))
	sum := sha256.Sum256(body)
	ok, err := s.Insert(context.Background(), &hold.Record{ID: id, Kind: kind, Sender: "a@example.com", Deadline: deadline},
		&spool.Record{ID: id, Kind: spool.KindMail, State: spool.StateHeld, MailFrom: "a@example.com", SHA256: fmt.Sprintf("%x", sum)},
		body, nil, hold.System, "policy")
	if err != nil || !ok {
		t.Fatalf("insert: %v %v", ok, err)
	}
	return id
}

func TestSchemaVersions(t *testing.T) {
	ctx := context.Background()
	pool := connect(t)
	if err := CheckSchema(ctx, pool); !errors.Is(err, ErrSchemaOld) || !strings.Contains(err.Error(), "sendguard db migrate") {
		t.Fatalf("fresh database: %v", err)
	}
	if _, err := New(ctx, pool, Options{Node: "a"}); !errors.Is(err, ErrSchemaOld) {
		t.Fatalf("node on an unmigrated database: %v", err)
	}
	done, err := Migrate(ctx, pool)
	if err != nil || len(done) == 0 {
		t.Fatalf("migrate: %v %v", done, err)
	}
	if done, err := Migrate(ctx, pool); err != nil || len(done) != 0 {
		t.Fatalf("second migrate applied %v: %v", done, err)
	}
	st, err := Status(ctx, pool)
	if err != nil || len(st) == 0 || !st[len(st)-1].Applied {
		t.Fatalf("status %+v %v", st, err)
	}
	// A newer sendguard migrated this database: this one refuses it.
	if _, err := pool.Exec(ctx, "INSERT INTO "+versionTable+" (version_id, is_applied) VALUES (99, true)"); err != nil {
		t.Fatal(err)
	}
	_, err = New(ctx, pool, Options{Node: "a"})
	if !errors.Is(err, ErrSchemaNewer) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("node on a newer schema: %v", err)
	}
	if _, err := Migrate(ctx, pool); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("migrate on a newer schema: %v", err)
	}
}

func TestInsertIdempotentAndBody(t *testing.T) {
	ctx := context.Background()
	s := open(t, migrated(t), "a")
	id := insert(t, s, hold.KindReview, time.Time{})
	h, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	body, err := s.Body(ctx, id)
	if err != nil || fmt.Sprintf("%x", sha256.Sum256(body)) != h.Message.SHA256 {
		t.Fatalf("body does not match its hash: %v", err)
	}
	again, err := s.Insert(ctx, h.Hold, h.Message, []byte("other"), nil, hold.System, "retry")
	if err != nil || again {
		t.Fatalf("second insert: %v %v", again, err)
	}
	if b, _ := s.Body(ctx, id); string(b) != string(body) {
		t.Fatal("a retried insert replaced the body")
	}
	var stored int
	s.pool.QueryRow(ctx, "SELECT length(body) FROM held_messages WHERE id = $1", id).Scan(&stored)
	if stored >= len(body)/4 {
		t.Fatalf("body stored in %d bytes for %d: not compressed", stored, len(body))
	}
	if ev, _ := s.Events(ctx, id); len(ev) != 1 || ev[0].Action != hold.ActionHold || ev[0].Reason != "policy" {
		t.Fatalf("events %+v", ev)
	}
}

func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	a, b := open(t, pool, "a"), open(t, pool, "b")
	var wg sync.WaitGroup
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AppendEvent(ctx, hold.Event{Actor: reviewer, Action: "login"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, err := a.Verify(ctx); n != 40 || err != nil {
		t.Fatalf("verify: %d %v", n, err)
	}
	// An edited event is found.
	if _, err := pool.Exec(ctx, `UPDATE audit_events SET event = replace(event, '"login"', '"logout"') WHERE seq = 17`); err != nil {
		t.Fatal(err)
	}
	var ce *hold.ChainError
	if _, err := b.Verify(ctx); !errors.As(err, &ce) || ce.Seq != 17 {
		t.Fatalf("verify after an edit: %v", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_events SET event = replace(event, '"logout"', '"login"') WHERE seq = 17`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM audit_events WHERE seq = 40`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ctx); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "head says 40") {
		t.Fatalf("verify after truncation: %v", err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	a, b := open(t, pool, "a"), open(t, pool, "b")
	id := insert(t, a, hold.KindSender, time.Time{})
	now := time.Now()
	tok := hold.Token{Hash: sha256.Sum256([]byte("secret token")), MessageID: id, Role: hold.RoleSender, Expires: now.Add(time.Hour)}
	if err := a.AddToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := a.AddToken(ctx, tok); !errors.Is(err, hold.ErrExists) {
		t.Fatalf("same hash twice: %v", err)
	}
	if err := a.AddToken(ctx, hold.Token{Hash: sha256.Sum256([]byte("x")), MessageID: "nope", Role: hold.RoleSender, Expires: now.Add(time.Hour)}); !errors.Is(err, hold.ErrNotFound) {
		t.Fatalf("token for no message: %v", err)
	}
	if _, _, err := b.LookupToken(ctx, tok.Hash, hold.RoleApprover, now); !errors.Is(err, hold.ErrTokenWrongRole) {
		t.Fatalf("wrong role: %v", err)
	}
	if _, _, err := b.LookupToken(ctx, tok.Hash, hold.RoleSender, now.Add(2*time.Hour)); !errors.Is(err, hold.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	sender := hold.Actor{Name: "a@example.com", Role: "sender"}
	rec, err := b.DecideWithToken(ctx, tok.Hash, hold.RoleSender, hold.StateReleased, sender, "", hold.ModeBcc)
	if err != nil || rec.State != hold.StateReleased || rec.Mode != hold.ModeBcc {
		t.Fatalf("release with a token made on another node: %+v %v", rec, err)
	}
	if _, err := a.DecideWithToken(ctx, tok.Hash, hold.RoleSender, hold.StateCancelled, sender, "", ""); !errors.Is(err, hold.ErrTokenUsed) {
		t.Fatalf("second use: %v", err)
	}
	// A refused decision leaves the token unused.
	id2 := insert(t, a, hold.KindSender, time.Time{})
	tok2 := hold.Token{Hash: sha256.Sum256([]byte("second")), MessageID: id2, Role: hold.RoleSender, Expires: now.Add(time.Hour)}
	if err := a.AddToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decide(ctx, id2, hold.StateRejected, reviewer, "", ""); err != nil {
		t.Fatal(err)
	}
	var de *hold.DecidedError
	if _, err := b.DecideWithToken(ctx, tok2.Hash, hold.RoleSender, hold.StateReleased, sender, "", ""); !errors.As(err, &de) || de.State != hold.StateRejected {
		t.Fatalf("token on a rejected message: %v", err)
	}
	if got, _, err := b.LookupToken(ctx, tok2.Hash, hold.RoleSender, now); err != nil || !got.UsedAt.IsZero() {
		t.Fatalf("token after a refused decision: %+v %v", got, err)
	}
}

// Two nodes tick the same due rows at once: each row is decided once.
func TestTickOnce(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	a, b := open(t, pool, "a"), open(t, pool, "b")
	past := time.Now().Add(-time.Second)
	for i := range 60 {
		k := hold.KindReview
		if i%3 == 0 {
			k = hold.KindDelay
		}
		insert(t, a, k, past)
	}
	var wg sync.WaitGroup
	decided := make([][]string, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				ids, err := s.Tick(ctx, time.Now(), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ids) == 0 {
					return
				}
				decided[i] = append(decided[i], ids...)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ids := range decided {
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("%s decided twice", id)
			}
			seen[id] = true
		}
	}
	c, _ := a.Counts(ctx)
	if len(seen) != 60 || c[hold.StateReleased] != 20 || c[hold.StateExpired] != 40 {
		t.Fatalf("decided %d; counts %v", len(seen), c)
	}
	for _, s := range []*Store{a, b} {
		ids, _ := s.Unlanded(ctx, 100)
		for _, id := range ids {
			if h, _ := s.Get(ctx, id); h.Node != s.Node() {
				t.Fatalf("%s unlanded for %s but decided by %s", id, s.Node(), h.Node)
			}
		}
	}
	if n, err := a.Verify(ctx); n != 120 || err != nil {
		t.Fatalf("chain: %d %v", n, err)
	}
}

func TestKeyFingerprints(t *testing.T) {
	ctx := context.Background()
	pool := migrated(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("link.key", "key-one")
	if err := open(t, pool, "a").CheckKeys(ctx, []KeyFile{{Name: "link.key", Path: good}}); err != nil {
		t.Fatal(err)
	}
	same := write("copy.key", "key-one")
	if err := open(t, pool, "b").CheckKeys(ctx, []KeyFile{{Name: "link.key", Path: same}}); err != nil {
		t.Fatalf("same key content refused: %v", err)
	}
	other := write("other.key", "key-two")
	err := open(t, pool, "c").CheckKeys(ctx, []KeyFile{{Name: "link.key", Path: other}})
	if !errors.Is(err, ErrKeyMismatch) || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), "node a") ||
		strings.Contains(err.Error(), "key-two") {
		t.Fatalf("different key: %v", err)
	}
}

// Purge drops decided messages their node has landed, after the
// retention; held and unlanded ones stay, and so do audit events.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := open(t, migrated(t), "a")
	held := insert(t, s, hold.KindReview, time.Time{})
	landed := insert(t, s, hold.KindReview, time.Time{})
	unlanded := insert(t, s, hold.KindReview, time.Time{})
	for _, id := range []string{landed, unlanded} {
		if _, err := s.Decide(ctx, id, hold.StateRejected, reviewer, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkLanded(ctx, landed); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, time.Now().Add(-time.Hour)); n != 0 || err != nil {
		t.Fatalf("purge before the retention: %d %v", n, err)
	}
	if n, err := s.Purge(ctx, time.Now().Add(time.Second)); n != 1 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	for id, want := range map[string]bool{held: true, landed: false, unlanded: true} {
		if _, err := s.Get(ctx, id); (err == nil) != want {
			t.Errorf("%s kept=%v after purge", id, err == nil)
		}
	}
	if ev, _ := s.Events(ctx, landed); len(ev) != 2 {
		t.Fatalf("audit events of a purged message: %d", len(ev))
	}
	if n, err := s.Verify(ctx); n != 5 || err != nil {
		t.Fatalf("chain after purge: %d %v", n, err)
	}
}

// A chain made elsewhere is imported verbatim and verifies; an edited
// event or one that does not follow the head is refused, writing nothing.
func TestImportChain(t *testing.T) {
	ctx := context.Background()
	src := open(t, migrated(t), "src")
	for i := range 5 {
		if _, err := src.AppendEvent(ctx, hold.Event{Actor: reviewer, Action: fmt.Sprintf("a%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := src.pool.Query(ctx, `SELECT event FROM audit_events ORDER BY seq`)
	var events []hold.Event
	for rows.Next() {
		var v string
		var e hold.Event
		rows.Scan(&v)
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	dst := open(t, migrated(t), "dst")
	bad := append([]hold.Event(nil), events...)
	bad[2].Reason = "edited"
	var ce *hold.ChainError
	if _, err := dst.ImportChain(ctx, bad); !errors.As(err, &ce) || ce.Seq != 3 {
		t.Fatalf("edited chain: %v", err)
	}
	if _, err := dst.ImportChain(ctx, events[1:]); !errors.As(err, &ce) {
		t.Fatalf("chain not following the head: %v", err)
	}
	if n, _ := dst.Verify(ctx); n != 0 {
		t.Fatalf("a refused import wrote %d events", n)
	}
	if n, err := dst.ImportChain(ctx, events[:3]); n != 3 || err != nil {
		t.Fatalf("import: %d %v", n, err)
	}
	if n, err := dst.ImportChain(ctx, events[3:]); n != 2 || err != nil {
		t.Fatalf("import continued: %d %v", n, err)
	}
	seqA, hashA, _ := src.Head(ctx)
	seqB, hashB, _ := dst.Head(ctx)
	if n, err := dst.Verify(ctx); n != 5 || err != nil || seqA != seqB || hashA != hashB {
		t.Fatalf("imported chain: %d %v, heads %d/%d", n, err, seqA, seqB)
	}
	// Events appended afterwards continue the imported chain.
	if _, err := dst.AppendEvent(ctx, hold.Event{Actor: reviewer, Action: "after"}); err != nil {
		t.Fatal(err)
	}
	if n, err := dst.Verify(ctx); n != 6 || err != nil {
		t.Fatalf("after: %d %v", n, err)
	}
}

func TestKnownDomains(t *testing.T) {
	pool := migrated(t)
	ctx := context.Background()
	a, b := open(t, pool, "node-a"), open(t, pool, "node-b")
	if ok, err := b.KnownDomain(ctx, "partner.test"); err != nil || ok {
		t.Fatalf("unknown domain: %v %v", ok, err)
	}
	if n, err := a.AddDomains(ctx, []string{"partner.test", "other.test"}, time.Now()); err != nil || n != 2 {
		t.Fatalf("add: %d %v", n, err)
	}
	if n, err := b.AddDomains(ctx, []string{"partner.test", "third.test"}, time.Now()); err != nil || n != 1 {
		t.Fatalf("add again: %d %v", n, err)
	}
	for d, want := range map[string]bool{"partner.test": true, "other.test": true, "third.test": true, "never.test": false} {
		if ok, err := b.KnownDomain(ctx, d); err != nil || ok != want {
			t.Fatalf("%s known = %v (%v), want %v", d, ok, err, want)
		}
	}
	var node string
	if err := pool.QueryRow(ctx, `SELECT node FROM known_domains WHERE domain = 'partner.test'`).Scan(&node); err != nil || node != "node-a" {
		t.Fatalf("first node of partner.test: %q %v", node, err)
	}
}
