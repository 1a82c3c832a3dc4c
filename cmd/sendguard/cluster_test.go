package main

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/internal/sink"
)

// Two real sendguard processes share one PostgreSQL: what the policy
// holds on one is released from the other and delivered once.

func clusterYAML(dsn, node string) string {
	return fmt.Sprintf("storage:\n  driver: postgres\n  dsn: %q\n  node: %s\n", dsn, node)
}

// serveOnce runs serve and expects it to refuse to start.
func serveOnce(t *testing.T, in *instance) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sendguardBin(t), "serve", "-config", in.cfgPath).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve did not refuse to start: %v\n%s", err, out)
	}
	return string(out)
}

func copyKeys(t *testing.T, from, to *instance) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(to.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"web.key", "link.key", "link-web.key"} {
		b, err := os.ReadFile(filepath.Join(from.dir, "data", k))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to.dir, "data", k), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startNodes starts nodes A and B on the shared database dsn with the next
// hop at sink, A's keys copied to B and the schema migrated; prepare, if
// set, runs on each before it starts.
func startNodes(t *testing.T, dsn, sink string, prepare func(testing.TB, *instance)) (a, b *instance) {
	t.Helper()
	a = newInstance(t, sink, clusterYAML(dsn, "node-a"))
	b = newInstance(t, sink, clusterYAML(dsn, "node-b"))
	if prepare != nil {
		prepare(t, a)
		prepare(t, b)
	}
	if out, err := a.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	a.start()
	copyKeys(t, a, b)
	b.start()
	return a, b
}

// massRcpts makes the default policy hold a mail for the sender
// (mass-exposure: 10+ external addresses visible).
func massRcpts(tag string) []string {
	var to []string
	for i := range 12 {
		to = append(to, fmt.Sprintf("c%d-%s@customer%d.test", i, tag, i))
	}
	return to
}

// heldID waits until the shared store holds the message with subject
// "test TAG" and returns its queue ID.
func heldID(t *testing.T, dsn, tag string) string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var id string
	waitFor(t, 15*time.Second, func() bool {
		err := c.QueryRow(ctx, `SELECT id FROM held_messages WHERE state = 'held' AND message->>'subject' = $1`, "test "+tag).Scan(&id)
		return err == nil
	})
	return id
}

func pgCount(t *testing.T, dsn, q string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func delivered(sk *sink.Sink, tag string) int {
	n := 0
	for _, m := range sk.Messages() {
		if strings.Contains(string(m.Data), "Message-ID: <"+tag+"@test>") {
			n++
		}
	}
	return n
}

func TestClusterTwoNodes(t *testing.T) {
	dsn := pgtest.New(t)
	sk := startSink(t)
	a := newInstance(t, sk.Addr, clusterYAML(dsn, "node-a"))
	b := newInstance(t, sk.Addr, clusterYAML(dsn, "node-b"))

	// Before db migrate a node refuses to start, and says what to run.
	if out := serveOnce(t, a); !strings.Contains(out, "sendguard db migrate") {
		t.Fatalf("unmigrated database:\n%s", out)
	}
	if out, err := a.cli("db", "status"); err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("db status before migrate: %v\n%s", err, out)
	}
	if out, err := a.cli("db", "migrate"); err != nil || !strings.Contains(out, "applied migration 1") {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	if out, err := b.cli("db", "migrate"); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second db migrate: %v\n%s", err, out)
	}
	a.start()
	// B with keys of its own refuses to start and names the file.
	if out := serveOnce(t, b); !strings.Contains(out, filepath.Join(b.dir, "data", "web.key")) || !strings.Contains(out, "node-a") {
		t.Fatalf("different keys:\n%s", out)
	}
	copyKeys(t, a, b)
	b.start()

	// Held on A, released on B, delivered once.
	to := massRcpts("one")
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "one", "newsletter")); err != nil {
		t.Fatal(err)
	}
	id := heldID(t, dsn, "one")
	// Every node lists and shows it (it is in neither spool now).
	for _, n := range []*instance{a, b} {
		if out, err := n.cli("queue", "list", "-state", "held"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "test one") {
			t.Fatalf("queue list on %s: %v\n%s", n.smtp, err, out)
		}
		if out, err := n.cli("queue", "show", id, "-json"); err != nil || !strings.Contains(out, "c0-one@customer0.test") {
			t.Fatalf("queue show: %v\n%s", err, out)
		}
	}
	start := time.Now()
	if out, err := b.cli("queue", "release", id, "-reason", "checked"); err != nil {
		t.Fatalf("release on B: %v\n%s", err, out)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "one") > 0 })
	t.Logf("held on A, released on B: at the sink %v after the release command started", time.Since(start).Round(time.Millisecond))
	if out, err := a.cli("queue", "release", id); err == nil || !strings.Contains(out, "already released") {
		t.Fatalf("second release on A: %v\n%s", err, out)
	}
	if out, err := a.cli("queue", "history", id); err != nil || !strings.Contains(out, "release") || !strings.Contains(out, "checked") {
		t.Fatalf("history on A of B's release: %v\n%s", err, out)
	}

	// 30 concurrent releases over both nodes: one succeeds, one delivery.
	to = massRcpts("race")
	if err := sendMail(b.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "race", "newsletter")); err != nil {
		t.Fatal(err)
	}
	id = heldID(t, dsn, "race")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 30 {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := node.cli("queue", "release", id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case strings.Contains(out, "already released"), strings.Contains(out, "already delivered"):
				// "delivered" from the node that landed it, as one node says
				refused++
			default:
				t.Errorf("release: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "race") > 0 })
	time.Sleep(time.Second) // a second copy would arrive within this
	if ok != 1 || refused != 29 || delivered(sk, "race") != 1 || delivered(sk, "one") != 1 {
		t.Fatalf("%d releases succeeded, %d refused; delivered race %d, one %d", ok, refused, delivered(sk, "race"), delivered(sk, "one"))
	}
	// The sender's confirm link, made by A, followed on B.
	to = massRcpts("link")
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "link", "newsletter")); err != nil {
		t.Fatal(err)
	}
	heldID(t, dsn, "link")
	text := waitNotice(t, sk, "alice@example.com", "test link")
	link := linkRE.FindString(text)
	if !strings.HasPrefix(link, "http://"+a.web) {
		t.Fatalf("no link to A in the notice:\n%s", text)
	}
	link = "http://" + b.web + strings.TrimPrefix(link, "http://"+a.web)
	f, page := pageForm(t, link)
	if !strings.Contains(page, "customer1.test") || !strings.Contains(page, `id="body-preview">newsletter</pre>`) {
		t.Fatalf("B's page does not show the message held on A:\n%.800s", page)
	}
	f.Set("action", "send")
	if code, body := post(t, link, f); code != 200 {
		t.Fatalf("confirm on B: %d\n%.500s", code, body)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "link") == 1 })
	if code, body := post(t, strings.Replace(link, b.web, a.web, 1), f); code == 200 && !strings.Contains(body, "already") && !strings.Contains(body, "既に") {
		t.Fatalf("link replayed on A: %d\n%.500s", code, body)
	}
	for _, n := range []*instance{a, b} {
		if out, err := n.cli("audit", "verify"); err != nil {
			t.Fatalf("audit verify: %v\n%s", err, out)
		}
	}
}

// PostgreSQL stopped under load: mail to deliver keeps flowing, mail to
// hold gets 451 4.3.0 (the MTA retries), and after the restart it is held.
func TestClusterDatabaseDown(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDB(t)
	sk := startSink(t)
	a := newInstance(t, sk.Addr, clusterYAML(dsn, "node-a"))
	if out, err := a.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	a.start()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	plain := []string{"bob@partner.test"}
	for i := range 20 {
		tag := fmt.Sprintf("plain%d", i)
		if err := sendMail(a.smtp, "alice@example.com", plain, testMessage("alice@example.com", plain, tag, "hello")); err != nil {
			t.Fatalf("deliverable mail with the database down: %v", err)
		}
	}
	to := massRcpts("down")
	err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "down", "newsletter"))
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 451 || !strings.HasPrefix(te.Msg, "4.3.0") {
		t.Fatalf("mail to hold with the database down: %v", err)
	}
	waitFor(t, 15*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) == 20 })
	if m := metricsText(t, a.web); !strings.Contains(m, "sendguard_shared_store_up 0") {
		t.Fatalf("metrics with the database down:\n%s", m)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The MTA's retry.
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "down", "newsletter")); err != nil {
		t.Fatalf("retry after the restart: %v", err)
	}
	heldID(t, dsn, "down")
	if m := metricsText(t, a.web); !strings.Contains(m, "sendguard_shared_store_up 1") {
		t.Fatalf("metrics with the database back:\n%s", m)
	}
	if delivered(sk, "down") != 0 {
		t.Fatal("mail to hold was delivered")
	}
}

// A delay-send held on node A is sent once, by node B, after A is killed.
func TestClusterDelayAfterNodeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a one-minute delay")
	}
	t.Parallel()
	dsn := pgtest.New(t)
	sk := startSink(t)
	pol := `version: 1
rules:
  - name: send-delay
    when: recipients.external > 0
    actions: [delay]
    params:
      delay_minutes: 1
    reason:
      ja: 送信を1分間保留します。
      en: Sending is delayed by one minute.
  - name: default
    when: "true"
    actions: [deliver]
`
	var nodes []*instance
	for _, name := range []string{"node-a", "node-b"} {
		in := newInstance(t, sk.Addr, clusterYAML(dsn, name))
		policyPath := filepath.Join(in.dir, "policy.yaml")
		if err := writeFile(policyPath, pol); err != nil {
			t.Fatal(err)
		}
		cfg, _ := readFile(in.cfgPath)
		writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
		nodes = append(nodes, in)
	}
	a, b := nodes[0], nodes[1]
	if out, err := a.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	a.start()
	copyKeys(t, a, b)
	b.start()
	to := []string{"k@partner.test"}
	if err := sendMail(a.smtp, "dave@example.com", to, testMessage("dave@example.com", to, "delayed", "x")); err != nil {
		t.Fatal(err)
	}
	heldID(t, dsn, "delayed")
	a.kill()
	start := time.Now()
	waitFor(t, 90*time.Second, func() bool { return delivered(sk, "delayed") > 0 })
	time.Sleep(2 * time.Second)
	// A is dead and the message left its spool when it was exported:
	// only B can have sent it, and not before the delay ended.
	if n := delivered(sk, "delayed"); n != 1 || time.Since(start) < 45*time.Second {
		t.Fatalf("delivered %d times, %v after A was killed", n, time.Since(start))
	}
	t.Logf("delay released by node B %v after node A was killed", time.Since(start).Round(time.Second))
}

// A single bbolt node moves to PostgreSQL: db import copies its held mail
// and audit chain (still verifiable), twice is harmless, and the node
// started with storage.driver postgres releases what it held, once.
func TestClusterImportSingleNode(t *testing.T) {
	sk := startSink(t)
	single := newInstance(t, sk.Addr, "")
	single.start()
	for _, tag := range []string{"imp1", "imp2"} {
		to := massRcpts(tag)
		if err := sendMail(single.smtp, "alice@example.com", to, testMessage("alice@example.com", to, tag, "newsletter")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 15*time.Second, func() bool {
		out, _ := single.cli("queue", "list", "-state", "held")
		return strings.Count(out, " held ") == 2
	})
	secret := consoleUser(t, single, "secteam")
	if err := single.stop(); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.New(t)
	admin := newInstance(t, sk.Addr, clusterYAML(dsn, "admin"))
	if out, err := admin.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	dataDir := filepath.Join(single.dir, "data")
	out, err := admin.cli("db", "import", "-from", dataDir)
	if err != nil || !strings.Contains(out, "events imported") || !strings.Contains(out, "held mail: 2 imported") || !strings.Contains(out, "verified") ||
		!strings.Contains(out, "console accounts: 1 imported") || !strings.Contains(out, "stored reports: 2 copied") ||
		!strings.Contains(out, "sender baselines: 1 imported, 0 already there") {
		t.Fatalf("db import: %v\n%s", err, out)
	}
	if out, err := admin.cli("db", "import", "-from", dataDir); err != nil || !strings.Contains(out, "already imported") || !strings.Contains(out, "0 imported, 2 already there") ||
		!strings.Contains(out, "console accounts: 0 imported, 1 already there") {
		t.Fatalf("second db import: %v\n%s", err, out)
	}
	cfg, _ := readFile(single.cfgPath)
	writeFile(single.cfgPath, cfg+clusterYAML(dsn, "node-a"))
	single.start()
	id := heldID(t, dsn, "imp1")
	// The single node's account signs in against the shared store.
	consoleLogin(t, single, "secteam", secret)
	if out, err := single.cli("queue", "release", id); err != nil {
		t.Fatalf("release after the move: %v\n%s", err, out)
	}
	waitFor(t, 15*time.Second, func() bool { return delivered(sk, "imp1") == 1 })
	if out, err := single.cli("audit", "verify"); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	// A report accepted now reaches the shared table, and the imported
	// baseline goes on counting there.
	to := []string{"x@partner.test"}
	if err := sendMail(single.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "imp3", "x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		return pgCount(t, dsn, `SELECT count(*) FROM node_reports`) == 3 &&
			pgCount(t, dsn, `SELECT count(*) FROM node_baselines WHERE sender = 'alice@example.com' AND updated > now() - interval '1 minute'`) == 1
	})
	time.Sleep(time.Second)
	if delivered(sk, "imp1") != 1 || delivered(sk, "imp2") != 0 {
		t.Fatalf("delivered imp1 %d, imp2 %d", delivered(sk, "imp1"), delivered(sk, "imp2"))
	}
}
