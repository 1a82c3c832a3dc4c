package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sendguard/sendguard/internal/pgtest"
	"github.com/sendguard/sendguard/internal/postfixrun"
	"github.com/sendguard/sendguard/internal/sink"
)

// clusterLoad is the number of messages of the cluster load tests: 300 in
// the test run, SENDGUARD_CLUSTER_N=2000 for the full size.
func clusterLoad() int {
	if n, err := strconv.Atoi(os.Getenv("SENDGUARD_CLUSTER_N")); err == nil && n >= 20 {
		return n
	}
	return 300
}

// PostgreSQL stopped for 10 s in the middle of a load relayed by a real
// Postfix: mail the policy delivers keeps flowing while it is down, mail
// it must hold is deferred with 451 4.3.0 and Postfix retries it; once the
// database is back every held mail is held there, none delivered, and
// every deliverable one arrived once (nothing lost).
func TestClusterDatabaseOutageUnderLoad(t *testing.T) {
	requirePostfix(t)
	total, heldEvery := clusterLoad(), 10
	outage := 10 * time.Second
	srv := pgtest.Start(t)
	dsn := srv.NewDB(t)
	sk := startSink(t)
	a := newInstance(t, sk.Addr, clusterYAML(dsn, "node-a"))
	if out, err := a.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	a.start()
	pf, err := postfixrun.Start(freePort(t), a.smtp, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pf.Stop)

	var downAt time.Time
	var deliveredWhileDown int
	plain, held := sendLoad(t, pf.SMTPD, "out", total, heldEvery, total/3, func() {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		downAt = time.Now()
	})
	// Mail keeps flowing while the database is down: wait for some of what
	// was submitted during the outage to arrive before it ends.
	for time.Since(downAt) < outage {
		time.Sleep(200 * time.Millisecond)
	}
	for _, tag := range plain[len(plain)/3:] {
		if delivered(sk, tag) > 0 {
			deliveredWhileDown++
		}
	}
	if deliveredWhileDown == 0 {
		t.Fatal("no deliverable mail arrived while the database was down")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()

	if m := awaitDelivered(sk, plain, 3*time.Minute); len(m) > 0 {
		t.Fatalf("%d of %d deliverable messages lost, e.g. %v", len(m), len(plain), m[:min(5, len(m))])
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	heldNow := func() int {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM held_messages WHERE state = 'held'`).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	waitFor(t, 2*time.Minute, func() bool { return heldNow() >= len(held) })
	if n := heldNow(); n != len(held) {
		t.Fatalf("%d held in PostgreSQL, want %d", n, len(held))
	}
	allHeld := time.Since(upAt)
	for _, tag := range held {
		if delivered(sk, tag) != 0 {
			t.Fatalf("mail to hold %s was delivered", tag)
		}
	}
	dups := 0
	for _, tag := range plain {
		dups += delivered(sk, tag) - 1
	}
	if dups != 0 {
		t.Fatalf("%d deliverable messages arrived twice", dups)
	}
	deferred := 0
	for _, l := range strings.Split(pf.Log(), "\n") {
		if strings.Contains(l, "status=deferred") && strings.Contains(l, "4.3.0") {
			deferred++
		}
	}
	t.Logf("%d messages: %d delivered (%d of the later ones while the database was down %v), %d held; %d deliveries deferred with 451 4.3.0 in Postfix's log; all held %v after the restart",
		total, len(plain), deliveredWhileDown, outage, len(held), deferred, allHeld.Round(100*time.Millisecond))
}

// awaitDelivered waits up to limit for every tag to reach the sink and
// returns those that did not.
func awaitDelivered(sk *sink.Sink, tags []string, limit time.Duration) []string {
	missing := func() []string {
		var out []string
		for _, tag := range tags {
			if delivered(sk, tag) == 0 {
				out = append(out, tag)
			}
		}
		return out
	}
	deadline := time.Now().Add(limit)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	return missing()
}

// sendLoad submits total messages through the MTA at smtpd, one in every
// heldEvery to 12 customers (held by the default policy), the others to one
// partner (delivered); event runs just before message at. It returns the
// tags ("PREFIXn") of each kind.
func sendLoad(t *testing.T, smtpd, prefix string, total, heldEvery, at int, event func()) (plain, held []string) {
	t.Helper()
	for i := range total {
		if i == at {
			event()
		}
		tag := fmt.Sprintf("%s%d", prefix, i)
		to := []string{"bob@partner.test"}
		if i%heldEvery == 0 {
			to = massRcpts(tag)
			held = append(held, tag)
		} else {
			plain = append(plain, tag)
		}
		if err := sendMail(smtpd, "alice@example.com", to, testMessage("alice@example.com", to, tag, "load")); err != nil {
			t.Fatalf("MTA refused %s: %v", tag, err)
		}
	}
	return plain, held
}
