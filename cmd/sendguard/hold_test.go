package main

import (
	"fmt"
	"github.com/sendguard/sendguard/internal/sink"
	"os/user"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHeldMessageReleasedAndRejected: the policy holds a mass-exposure mail
// and a look-alike mail; nothing reaches the next hop until an admin
// releases one; the rejected one never leaves.
func TestHeldMessageReleasedAndRejected(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()

	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("c%d@customer%d.test", i, i))
	}
	if err := sendMail(in.smtp, "alice@example.com", many, testMessage("alice@example.com", many, "mass", "newsletter")); err != nil {
		t.Fatal(err)
	}
	look := []string{"ceo@exarnple.com"}
	if err := sendMail(in.smtp, "alice@example.com", look, testMessage("alice@example.com", look, "look", "invoice")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(mailsFrom(sk, "alice@example.com")); n != 0 {
		t.Fatalf("%d held messages reached the next hop", n)
	}
	out, err := in.cli("queue", "list", "-state", "held")
	if err != nil || strings.Count(out, " held ") != 2 {
		t.Fatalf("queue list -state held: %v\n%s", err, out)
	}
	for _, want := range []string{"SUBJECT", "RULE", "ACTION", "AGE", "test mass", "mass-exposure", "hold_sender", "alice@example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("queue list lacks %q:\n%s", want, out)
		}
	}
	ids := regexp.MustCompile(`(?m)^([0-9A-Z]{21})\s`).FindAllStringSubmatch(out, -1)
	show := func(id string) string { s, _ := in.cli("queue", "show", id, "-json"); return s }
	var massID, lookID string
	for _, m := range ids {
		if strings.Contains(show(m[1]), "c0@customer0.test") {
			massID = m[1]
		} else {
			lookID = m[1]
		}
	}
	if massID == "" || lookID == "" {
		t.Fatalf("could not tell the held messages apart:\n%s", out)
	}
	if !strings.Contains(show(massID), "mass-exposure") || !strings.Contains(show(lookID), "lookalike") {
		t.Fatalf("decisions not recorded:\n%s\n%s", show(massID), show(lookID))
	}
	if out, err := in.cli("queue", "release", massID, "-reason", "checked with the sender"); err != nil {
		t.Fatalf("release: %v %s", err, out)
	}
	if out, err := in.cli("queue", "reject", lookID, "-reason", "typo in the domain"); err != nil {
		t.Fatalf("reject: %v %s", err, out)
	}
	waitFor(t, 10*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) > 0 })
	got := mailsFrom(sk, "alice@example.com")
	if !strings.Contains(string(got[0].Data), "Message-ID: <mass@test>") || len(got[0].To) != 12 {
		t.Fatalf("released message: to=%d\n%.300s", len(got[0].To), got[0].Data)
	}
	// A second release is refused: the decision is final.
	if out, err := in.cli("queue", "release", massID); err == nil {
		t.Fatalf("second release accepted: %s", out)
	}
	// queue show is for people; -json for machines.
	human, err := in.cli("queue", "show", lookID)
	if err != nil || !strings.Contains(human, "Subject:") || !strings.Contains(human, "test look") ||
		!strings.Contains(human, "lookalike") || !strings.Contains(human, "ceo@exarnple.com") || strings.Contains(human, "{") {
		t.Fatalf("queue show: %v\n%s", err, human)
	}
	if !regexp.MustCompile(`Received:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z+\-0-9]+ `).MatchString(human) {
		t.Fatalf("queue show time without zone:\n%s", human)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(mailsFrom(sk, "alice@example.com")); n != 1 {
		t.Fatalf("%d messages at the sink, want 1 (the rejected one must not leave)", n)
	}
	if !strings.Contains(show(lookID), `"state": "rejected"`) {
		t.Fatalf("rejected message state:\n%s", show(lookID))
	}
	hist, err := in.cli("queue", "history", massID)
	if u, _ := user.Current(); u != nil && !strings.Contains(hist, "admin-cli ("+u.Username+")") {
		t.Errorf("history does not name the OS user %s:\n%s", u.Username, hist)
	}
	if err != nil || !strings.Contains(hist, "admin-cli") || !strings.Contains(hist, "checked with the sender") || !strings.Contains(hist, "held → released") {
		t.Fatalf("history: %v\n%s", err, hist)
	}
	if out, err := in.cli("audit", "verify"); err != nil || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// TestFirstTimeDomainsAreLearned: a domain is first-time until mail to it
// has been delivered once.
func TestFirstTimeDomainsAreLearned(t *testing.T) {
	seen := ""
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	firstTime := func(id string) bool {
		out, _ := in.cli("queue", "show", id, "-json")
		return regexp.MustCompile(`"first_time_domains": \[\s*"newpartner.test"`).MatchString(out)
	}
	send := func(tag string) string {
		to := []string{"x@newpartner.test"}
		if err := sendMail(in.smtp, "a@example.com", to, testMessage("a@example.com", to, tag, "hi")); err != nil {
			t.Fatal(err)
		}
		var id string
		waitFor(t, 5*time.Second, func() bool {
			out, _ := in.cli("queue", "list", "-all")
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) > 0 && len(f[0]) == 21 && !strings.Contains(seen, f[0]) {
					id = f[0]
				}
			}
			return id != ""
		})
		seen += id
		return id
	}
	first := send("first")
	waitFor(t, 10*time.Second, func() bool { // delivered and recorded
		out, _ := in.cli("queue", "show", first, "-json")
		return strings.Contains(out, `"state": "delivered"`)
	})
	// Deciding on a delivered message says so, not "record not found".
	if out, err := in.cli("queue", "release", first); err == nil || !strings.Contains(out, "was already delivered") {
		t.Fatalf("release of a delivered message: %v\n%s", err, out)
	}
	second := send("second")
	if !firstTime(first) || firstTime(second) {
		t.Fatalf("first-time flags: first=%v second=%v", firstTime(first), firstTime(second))
	}
}

// mailsFrom filters the sink's messages by envelope sender (notices and
// DSNs come from the null sender).
func mailsFrom(sk *sink.Sink, from string) []sink.Message {
	var out []sink.Message
	for _, m := range sk.Messages() {
		if m.From == from {
			out = append(out, m)
		}
	}
	return out
}
