package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules"
)

const shadowPolicyYAML = `version: 1
rules:
  - name: strict-external
    mode: shadow
    when: recipients.external > 0
    actions: [hold_review]
    reason: {ja: 社外宛, en: external recipients}
`

// TestShadowRuleNeverHoldsAndReplayShowsIt: a shadow hold rule matches an
// external mail over real SMTP; the mail reaches the next hop, the match
// is counted and stored, and replaying the enforced rule over the stored
// reports shows the message that would have been held.
func TestShadowRuleNeverHoldsAndReplayShowsIt(t *testing.T) {
	sk := startSink(t)
	polPath := filepath.Join(t.TempDir(), "shadow.yaml")
	if err := writeFile(polPath, shadowPolicyYAML); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, sk.Addr, "policy: "+polPath+"\n")
	in.start()

	ext := []string{"bob@customer.test"}
	if err := sendMail(in.smtp, "alice@example.com", ext, testMessage("alice@example.com", ext, "shadow-ext", "quote attached")); err != nil {
		t.Fatalf("external mail: %v", err)
	}
	internal := []string{"carol@example.com"}
	if err := sendMail(in.smtp, "dave@example.com", internal, testMessage("dave@example.com", internal, "shadow-int", "lunch?")); err != nil {
		t.Fatalf("internal mail: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool {
		return len(mailsFrom(sk, "alice@example.com")) == 1 && len(mailsFrom(sk, "dave@example.com")) == 1
	})

	resp, err := http.Get("http://" + in.web + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `sendguard_shadow_matches_total{rule="strict-external"} 1`) ||
		!strings.Contains(string(body), `sendguard_shadow_would_stop_total{rule="strict-external"} 1`) {
		t.Fatalf("shadow match not counted:\n%s", grepLines(string(body), "shadow"))
	}
	if out, _ := in.cli("queue", "list", "-state", "held"); strings.Contains(out, "alice@example.com") {
		t.Fatalf("a shadow rule held the message:\n%s", out)
	}

	// The candidate enforces the rule.
	enforced := filepath.Join(t.TempDir(), "enforced.yaml")
	if err := writeFile(enforced, strings.Replace(shadowPolicyYAML, "    mode: shadow\n", "", 1)); err != nil {
		t.Fatal(err)
	}
	out, err := in.cli("policy", "replay", "-policy", enforced, "-since", "1d")
	t.Logf("replay:\n%s", out)
	if err != nil {
		t.Fatalf("policy replay: %v\n%s", err, out)
	}
	for _, want := range []string{"2 stored reports", "held per day: 0.0 now, 1.0 with the candidate",
		"rule strict-external: deliver → hold_review  1", "a***@example.com",
		"shadow rule strict-external matched 1 messages live (1 it would have held)"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "alice@") || strings.Contains(out, "dave") {
		t.Errorf("replay output shows an unmasked sender:\n%s", out)
	}

	out, err = in.cli("policy", "replay", "-policy", enforced, "-json")
	if err != nil {
		t.Fatalf("policy replay -json: %v\n%s", err, out)
	}
	var res reports.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("replay -json: %v\n%s", err, out)
	}
	if res.Reports != 2 || res.Changed != 1 || len(res.Changes) != 1 || res.Changes[0].Examples[0].Sender != "a***@example.com" {
		t.Fatalf("replay -json: %+v", res)
	}

}

// TestBaselinesSurviveRestart: the sender's baseline learned before a
// clean restart is there after it. A shadow rule that needs one day of
// history matches the sender's first mail after the restart, not before.
func TestBaselinesSurviveRestart(t *testing.T) {
	sk := startSink(t)
	polPath := filepath.Join(t.TempDir(), "seen.yaml")
	if err := writeFile(polPath, `version: 1
rules:
  - name: seen-before
    mode: shadow
    when: sender.history_days() >= 1
    actions: [hold_review]
    reason: {ja: 既知の送信者, en: known sender}
`); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, sk.Addr, "policy: "+polPath+"\n")
	in.start()
	rcpt := []string{"bob@customer.test"}
	metric := func() string {
		resp, err := http.Get("http://" + in.web + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return grepLines(string(b), "seen-before")
	}
	if err := sendMail(in.smtp, "erin@example.com", rcpt, testMessage("erin@example.com", rcpt, "b1", "first")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(mailsFrom(sk, "erin@example.com")) == 1 })
	if m := metric(); m != "" {
		t.Fatalf("a first mail matched a rule needing history: %s", m)
	}
	if err := in.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, in.logs())
	}
	in.start()
	out, err := in.cli("policy", "baseline", "-json", "ERIN@example.com")
	if err != nil {
		t.Fatalf("policy baseline: %v\n%s", err, out)
	}
	var b rules.SenderBehaviour
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.Messages != 1 || b.Days != 1 || b.DayExternal != 1 || b.Established {
		t.Fatalf("baseline after the restart: %+v %v\n%s", b, err, out)
	}
	if out, err := in.cli("policy", "baseline", "erin@example.com"); err != nil || !strings.Contains(out, "erin@example.com: 1 messages on 1 days with mail (learning") {
		t.Fatalf("policy baseline: %v\n%s", err, out)
	}
	if err := sendMail(in.smtp, "erin@example.com", rcpt, testMessage("erin@example.com", rcpt, "b2", "second")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(mailsFrom(sk, "erin@example.com")) == 2 })
	if m := metric(); !strings.Contains(m, `sendguard_shadow_matches_total{rule="seen-before"} 1`) {
		t.Fatalf("after the restart the baseline was gone: %q", m)
	}
}

func TestPolicyCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"policy", "-h"}, {"policy", "replay", "-h"}, {"policy", "stats", "-h"}, {"policy", "baseline", "-h"}} {
		if out, _, code := runCLI(t, args...); code != 0 || !strings.Contains(out, "usage: sendguard policy replay") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy"}, "a subcommand is required"},
		{[]string{"policy", "frob"}, `unknown policy command "frob"`},
		{[]string{"policy", "replay"}, "needs -policy FILE"},
		{[]string{"policy", "replay", "-policy", "p.yaml", "-since", "soon"}, `-since: "soon" is not a positive duration`},
		{[]string{"policy", "replay", "-policy", "p.yaml", "-since", "0d"}, "is not a number of days"},
		{[]string{"policy", "stats", "-weeks", "0"}, "-weeks between 1 and 520"},
		{[]string{"policy", "baseline"}, "one sender address"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPolicyStatsFromHoldEndings: two holds of one rule, one released and
// one rejected by an admin, show up in policy stats.
func TestPolicyStatsFromHoldEndings(t *testing.T) {
	sk := startSink(t)
	polPath := filepath.Join(t.TempDir(), "hold.yaml")
	if err := writeFile(polPath, "version: 1\nrules:\n  - name: hold-external\n    when: recipients.external > 0\n    actions: [hold_review]\n    reason: external\n"); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, sk.Addr, "policy: "+polPath+"\n")
	in.start()
	for i := range 2 {
		to := []string{fmt.Sprintf("x%d@customer.test", i)}
		if err := sendMail(in.smtp, "alice@example.com", to, testMessage("alice@example.com", to, fmt.Sprintf("st%d", i), "hello")); err != nil {
			t.Fatal(err)
		}
	}
	out, err := in.cli("queue", "list", "-state", "held")
	ids := regexp.MustCompile(`(?m)^([0-9A-Z]{21})\s`).FindAllStringSubmatch(out, -1)
	if err != nil || len(ids) != 2 {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	if out, err := in.cli("queue", "release", ids[0][1], "-reason", "fine"); err != nil {
		t.Fatalf("release: %v %s", err, out)
	}
	if out, err := in.cli("queue", "reject", ids[1][1], "-reason", "wrong customer"); err != nil {
		t.Fatalf("reject: %v %s", err, out)
	}
	out, err = in.cli("policy", "stats", "-weeks", "1")
	t.Logf("stats:\n%s", out)
	if err != nil {
		t.Fatalf("policy stats: %v\n%s", err, out)
	}
	row := regexp.MustCompile(`(?m)^hold-external\s+\d{4}-\d\d-\d\d\s+2\s+50%\s+50%\s+0\s+0\s+0\s+1\s+1\s+0\s`)
	if !row.MatchString(out) {
		t.Fatalf("policy stats:\n%s", out)
	}
	out, err = in.cli("policy", "stats", "-json")
	var rows []reports.RuleWeek
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].Counts["rejected"] != 1 {
		t.Fatalf("policy stats -json: %v\n%s", err, out)
	}
}
