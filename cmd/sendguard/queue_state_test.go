package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// The two defects of one message having two state machines, end to end.

// holdThenLinkPolicy holds external mail with attachments for review and
// sends it as download links once released.
func holdThenLinkPolicy(t testing.TB, in *instance) {
	t.Helper()
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: review-then-links
    when: recipients.external > 0 && size(attachments) > 0
    actions: [hold_review, link]
    reason:
      ja: 添付ファイル付きの社外宛メールは確認後にリンクで送ります。
      en: External mail with attachments is reviewed, then sent as links.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
}

var queueIDRE = regexp.MustCompile(`(?m)^([0-9A-Z]{21})\s+held\s`)

func heldIDs(t testing.TB, in *instance) []string {
	t.Helper()
	out, err := in.cli("queue", "list", "-state", "held")
	if err != nil {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	var ids []string
	for _, m := range queueIDRE.FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// A release of [hold_review, link] used to take the link store's write
// transaction inside the hold's: the CLI hung and the gateway accepted no
// more mail. It must finish, deliver with links, and leave SMTP working.
func TestReleaseHoldReviewLinkDelivers(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	holdThenLinkPolicy(t, in)
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"buyer@partner.test"}, attachmentMail("alice@example.com", "buyer@partner.test", "rl1")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	waitFor(t, 10*time.Second, func() bool { ids = heldIDs(t, in); return len(ids) == 1 })
	done := make(chan string, 1)
	go func() {
		out, err := in.cli("queue", "release", ids[0])
		if err != nil {
			out = "error: " + err.Error() + " " + out
		}
		done <- out
	}()
	select {
	case out := <-done:
		if strings.HasPrefix(out, "error") {
			t.Fatalf("release: %s", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("queue release hung\n%s", in.logs())
	}
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "rl1") == 1 })
	m := mailsFrom(sk, "alice@example.com")[0]
	text := noticeText(t, m.Data)
	if strings.Contains(string(m.Data), "text/csv") || !dlLinkRE.MatchString(text) {
		t.Fatalf("released copy is not a link mail:\n%.600s", text)
	}
	// The gateway still accepts mail at once.
	start := time.Now()
	if err := sendMail(in.smtp, "bob@example.com", []string{"x@example.com"}, testMessage("bob@example.com", []string{"x@example.com"}, "after", "ok")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("acceptance after the release took %v", d)
	}
	// Releasing again says what happened, in plain words.
	out, err := in.cli("queue", "release", ids[0])
	if err == nil || !strings.Contains(out, "already") || strings.Contains(out, "hold:") {
		t.Fatalf("second release: %v %s", err, out)
	}
}

// A held message deleted by the admin used to keep its hold: at its
// deadline the timer met a missing spool record and retried every
// millisecond forever. Deletion goes through the state machine now: the
// deadline passes in silence.
func TestDeletedHeldMessageIsSilentAtDeadline(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "hold:\n  expire_after: 2s\n")
	in.start()
	to := massRecipients("d")
	if err := sendMail(in.smtp, "carol@example.com", to, testMessage("carol@example.com", to, "delete-me", "oops")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	waitFor(t, 10*time.Second, func() bool { ids = heldIDs(t, in); return len(ids) == 1 })
	if out, err := in.cli("queue", "delete", ids[0]); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	// A restart resumes every timer from the store.
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in.start()
	logPath := filepath.Join(in.dir, "sendguard.log")
	before, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // past the deadline
	all, _ := os.ReadFile(logPath)
	tail := string(all[before.Size():])
	if n := strings.Count(tail, "\n"); n > 10 {
		t.Fatalf("%d log lines after the deadline of a deleted message:\n%.2000s", n, tail)
	}
	if strings.Contains(tail, "deadline") || strings.Contains(tail, "expire") {
		t.Fatalf("the deleted message's deadline still fired:\n%s", tail)
	}
	if n := countByID(sk, "delete-me"); n != 0 {
		t.Fatalf("deleted mail delivered %d times", n)
	}
	out, _ := in.cli("queue", "history", ids[0])
	if !strings.Contains(out, "held → deleted") {
		t.Fatalf("history has no deletion:\n%s", out)
	}
	if out, err := in.cli("queue", "release", ids[0]); err == nil || !strings.Contains(out, "already deleted") {
		t.Fatalf("release after delete: %v %s", err, out)
	}
}

// TestReleaseThenKill9: a release of [hold_review, link] is killed with SIGKILL at several moments after the
// release returns; after the restart every recipient gets exactly one
// copy and the sender exactly one link notice.
func TestReleaseThenKill9(t *testing.T) {
	sk := startSink(t)
	// The next hop defers the released mail until the gateway has been
	// killed and restarted, so the kill lands in the release's steps (link
	// package, notices), never in the one window no relay can close (the
	// remote's 250 before our journal write): a second copy is then a
	// real fault, not a timing accident.
	var deferMail atomic.Bool
	sk.SetRcptErr(func(rcpt string) *smtp.SMTPError {
		if deferMail.Load() && strings.HasSuffix(rcpt, "@partner.test") {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	in := newInstance(t, sk.Addr, "")
	holdThenLinkPolicy(t, in)
	in.start()
	delays := []time.Duration{0, 30 * time.Millisecond, 120 * time.Millisecond}
	for i, d := range delays {
		from := fmt.Sprintf("k%d@example.com", i)
		tag := fmt.Sprintf("kill%d", i)
		if err := sendMail(in.smtp, from, []string{"buyer@partner.test", "boss@partner.test"}, attachmentMail(from, "buyer@partner.test", tag)); err != nil {
			t.Fatal(err)
		}
		var ids []string
		waitFor(t, 10*time.Second, func() bool { ids = heldIDs(t, in); return len(ids) == 1 })
		deferMail.Store(true)
		if out, err := in.cli("queue", "release", ids[0]); err != nil {
			t.Fatalf("release: %v %s", err, out)
		}
		time.Sleep(d)
		in.kill()
		deferMail.Store(false)
		in.start()
		waitFor(t, 20*time.Second, func() bool { return len(mailsFrom(sk, from)) >= 2 })
	}
	time.Sleep(1500 * time.Millisecond) // anything sent twice would arrive by now
	for i := range delays {
		from := fmt.Sprintf("k%d@example.com", i)
		got := map[string]int{}
		for _, m := range mailsFrom(sk, from) {
			got[m.To[0]]++
		}
		if len(got) != 2 || got["buyer@partner.test"] != 1 || got["boss@partner.test"] != 1 {
			t.Fatalf("release %d killed after %v: copies %v", i, delays[i], got)
		}
		notes := 0
		for _, m := range sk.Messages() {
			if m.From == "" && len(m.To) == 1 && m.To[0] == from && strings.Contains(noticeText(t, m.Data), "/d/revoke/") {
				notes++
			}
		}
		if notes != 1 {
			t.Fatalf("release %d killed after %v: %d link notices to the sender", i, delays[i], notes)
		}
	}
}
