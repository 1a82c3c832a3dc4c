package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/pgtest"
)

// TestClusterNodeData: what was each node's own is the same on both
// nodes: failed sign-ins spread over two nodes add up to one back-off;
// node B's audit page and dashboard charts show the hold node A made; a report and a
// baseline made on node A are what policy replay and policy baseline on
// node B read.
func TestClusterNodeData(t *testing.T) {
	dsn := pgtest.New(t)
	sk := startSink(t)
	a := newInstance(t, sk.Addr, clusterYAML(dsn, "node-a"))
	b := newInstance(t, sk.Addr, clusterYAML(dsn, "node-b"))
	if out, err := a.cli("db", "migrate"); err != nil {
		t.Fatalf("db migrate: %v\n%s", err, out)
	}
	a.start()
	copyKeys(t, a, b)
	b.start()

	// Five wrong passwords for one account, spread over the nodes: the
	// fifth starts the back-off (a second), so the next attempt is
	// refused unchecked, on node B too, whose own count would be two.
	try := func(in *instance) int {
		jar, _ := cookiejar.New(nil)
		cc := &consoleClient{t: t, base: "http://" + in.web + "/console/", c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
		_, page := cc.get("login")
		st, _ := cc.post("login", url.Values{"csrf": {cc.csrf(page)}, "user": {"ghost"}, "password": {"wrong guess"}})
		return st
	}
	for i, in := range []*instance{a, b, a, a, a} {
		if st := try(in); st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	if st := try(b); st != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt, on node B within the back-off: %d, want 429", st)
	}

	secret := consoleUser(t, a, "secteam")
	cc := consoleLogin(t, b, "secteam", secret)
	to := massRcpts("nd")
	if err := sendMail(a.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "nd", "newsletter from A")); err != nil {
		t.Fatal(err)
	}
	id := heldID(t, dsn, "nd")
	if _, page := cc.get("audit?msg=" + id); !strings.Contains(page, `msg/`+id+`">`+id+`</a>`) {
		t.Fatalf("B's audit page does not show A's hold of %s:\n%.1500s", id, page)
	}

	// B's dashboard charts count A's holds (in English: the Japanese one
	// was computed at sign-in, before the mail).
	if _, page := cc.get("?lang=en"); !strings.Contains(page, "alice@example.com") {
		t.Fatalf("B's dashboard charts do not show the sender of A's hold:\n%.3000s", page)
	}

	pol := filepath.Join(t.TempDir(), "candidate.yaml")
	if err := writeFile(pol, "rules:\n  - name: all\n    when: 'true'\n    actions: [hold_review]\n    reason: x\n"); err != nil {
		t.Fatal(err)
	}
	reportsRE := regexp.MustCompile(`(?m)^1 stored reports`)
	var out string
	waitFor(t, 20*time.Second, func() bool {
		out, _ = b.cli("policy", "replay", "-policy", pol, "-since", "1h")
		return reportsRE.MatchString(out)
	})
	waitFor(t, 20*time.Second, func() bool {
		out, _ = b.cli("policy", "baseline", "alice@example.com")
		return strings.Contains(out, "1 messages on 1 days")
	})
}
