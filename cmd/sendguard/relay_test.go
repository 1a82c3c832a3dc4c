package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sendguard/sendguard/internal/sink"
)

func startSink(t testing.TB) *sink.Sink {
	t.Helper()
	s, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// receivedRE matches exactly the one trace header sendguard prepends.
var receivedRE = regexp.MustCompile(`^Received: from [^\r\n]+\r\n\tby gw\.example\.com \(sendguard\) with ESMTP id [0-9A-Z]{21}(\r\n\tfor <[^>]+>)?;\r\n\t[^\r\n]+\r\n`)

func TestRelayIsByteFaithful(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()

	// Header folding, 8-bit UTF-8, a long line and a dot-stuffed line must
	// all arrive exactly as sent.
	msg := []byte("From: =?UTF-8?B?5bGx55Sw?= <yamada@example.com>\r\nTo: a@ext.test,\r\n  b@ext.test\r\nSubject: テスト\r\nMessage-ID: <faithful@test>\r\nX-Odd:   spaces\t kept \r\n\r\n" +
		"こんにちは\r\n.leading dot\r\n" + strings.Repeat("x", 5000) + "\r\nend\r\n")
	if err := sendMail(in.smtp, "yamada@example.com", []string{"a@ext.test", "b@ext.test"}, msg); err != nil {
		t.Fatal(err)
	}
	got, err := sk.Wait(1, 10*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, in.logs())
	}
	data := got[0].Data
	loc := receivedRE.FindIndex(data)
	if loc == nil || loc[0] != 0 {
		t.Fatalf("no Received header first:\n%.300s", data)
	}
	if !bytes.Equal(data[loc[1]:], msg) {
		t.Fatalf("body changed in transit:\n got %q\nwant %q", data[loc[1]:], msg)
	}
	if got[0].From != "yamada@example.com" || len(got[0].To) != 2 {
		t.Fatalf("envelope = %q %q", got[0].From, got[0].To)
	}
	// The body file is removed once delivered.
	waitFor(t, 5*time.Second, func() bool { return spoolFiles(t, in) == 0 })
	// The operator sees it in the metrics.
	waitFor(t, 5*time.Second, func() bool {
		return metric(t, in.web, `sendguard_queue_depth{state="delivered"}`) == 1 &&
			metric(t, in.web, "sendguard_received_total") == 1 && metric(t, in.web, "sendguard_delivered_total") == 2
	})
}

func waitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func spoolFiles(t testing.TB, in *instance) int {
	entries, err := os.ReadDir(filepath.Join(in.dir, "data", "spool"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestNextHopDownThenUp(t *testing.T) {
	hop := freePort(t) // nothing listens yet
	in := newInstance(t, hop, "")
	in.start()
	const n = 5
	for i := range n {
		id := fmt.Sprintf("down-%d", i)
		if err := sendMail(in.smtp, "s@example.com", []string{"r@ext.test"}, testMessage("s@example.com", []string{"r@ext.test"}, id, "x")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(700 * time.Millisecond) // at least one failed attempt each
	out, err := in.cli("queue", "list")
	if err != nil {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	if strings.Count(out, "queued") != n {
		t.Fatalf("queue list should show %d queued messages:\n%s", n, out)
	}
	sk, err := sink.Start(hop)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close()
	if _, err := sk.Wait(n, 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, in.logs())
	}
	waitFor(t, 5*time.Second, func() bool {
		out, _ := in.cli("queue", "list")
		return strings.Contains(out, "0 message(s)")
	})
}

func TestRefusalsWriteNothing(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	// Tighten limits for the test.
	cfg, _ := os.ReadFile(in.cfgPath)
	cfg = bytes.Replace(cfg, []byte("  trusted_networks: [127.0.0.0/8]\n"),
		[]byte("  trusted_networks: [127.0.0.0/8]\n  max_message_bytes: 4096\n  max_recipients: 3\n"), 1)
	os.WriteFile(in.cfgPath, cfg, 0o600)
	in.start()

	cases := []struct {
		name   string
		script func(s *rawSession) string
		want   string
	}{
		{"size parameter", func(s *rawSession) string {
			return s.cmd("MAIL FROM:<a@example.com> SIZE=100000")
		}, "552 5.3.4"},
		{"oversize data", func(s *rawSession) string {
			s.cmd("MAIL FROM:<a@example.com>")
			s.cmd("RCPT TO:<b@ext.test>")
			s.cmd("DATA")
			s.send("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 400) + ".\r\n")
			return s.reply()
		}, "552 5.3.4"},
		{"too many recipients", func(s *rawSession) string {
			s.cmd("MAIL FROM:<a@example.com>")
			for i := range 3 {
				s.cmd(fmt.Sprintf("RCPT TO:<r%d@ext.test>", i))
			}
			return s.cmd("RCPT TO:<r4@ext.test>")
		}, "452 4.5.3"},
		{"bare LF", func(s *rawSession) string {
			s.cmd("MAIL FROM:<a@example.com>")
			s.cmd("RCPT TO:<b@ext.test>")
			s.cmd("DATA")
			s.send("Subject: lf\r\n\r\nline one\nline two\r\n.\r\n")
			return s.reply()
		}, "554 5.6.0"},
		{"smuggling", func(s *rawSession) string {
			s.cmd("MAIL FROM:<a@example.com>")
			s.cmd("RCPT TO:<b@ext.test>")
			s.cmd("DATA")
			s.send("Subject: smuggle\r\n\r\nhello\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@ext.test>\r\nDATA\r\nspoof\r\n.\r\n")
			return s.reply()
		}, "554 5.6.0"},
		{"bare CR", func(s *rawSession) string {
			s.cmd("MAIL FROM:<a@example.com>")
			s.cmd("RCPT TO:<b@ext.test>")
			s.cmd("DATA")
			s.send("Subject: cr\r\n\r\nline one\rline two\r\n.\r\n")
			return s.reply()
		}, "554 5.6.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := dialRaw(t, in.smtp)
			s.reply()
			s.cmd("EHLO client.example.com")
			if got := c.script(s); !strings.HasPrefix(got, c.want) {
				t.Fatalf("reply %q, want %s", got, c.want)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if n := spoolFiles(t, in); n != 0 {
		t.Fatalf("%d files left in the spool after refusals", n)
	}
	if out, _ := in.cli("queue", "list", "-all"); !strings.Contains(out, "0 message(s)") {
		t.Fatalf("refused messages were recorded:\n%s", out)
	}
	if len(sk.Messages()) != 0 {
		t.Fatal("a refused message was delivered")
	}
}

func TestUntrustedClientRefused(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	cfg, _ := os.ReadFile(in.cfgPath)
	cfg = bytes.Replace(cfg, []byte("trusted_networks: [127.0.0.0/8]"), []byte("trusted_networks: [127.0.0.2/32]"), 1)
	os.WriteFile(in.cfgPath, cfg, 0o600)
	in.start()
	s := dialRaw(t, in.smtp) // from 127.0.0.1: not trusted
	if got := s.reply(); !strings.HasPrefix(got, "554 5.7.1") {
		t.Fatalf("greeting %q, want 554 5.7.1", got)
	}
}

func TestSMTPAuthOnlyOverTLS(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	cert, key := writeTestCert(t, in.dir)
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 4) // low cost keeps the test fast
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(in.cfgPath)
	cfg = bytes.Replace(cfg, []byte("trusted_networks: [127.0.0.0/8]"), []byte(fmt.Sprintf(
		"trusted_networks: [127.0.0.2/32]\n  tls: {cert: %s, key: %s}\n  users:\n    - name: mta\n      password_hash: %q", cert, key, h)), 1)
	os.WriteFile(in.cfgPath, cfg, 0o600)
	in.start()

	s := dialRaw(t, in.smtp)
	s.reply()
	s.cmd("EHLO client.example.com")
	if got := s.cmd("AUTH PLAIN " + plainIR("mta", "correct horse battery")); !strings.HasPrefix(got, "523 5.7.10") && !strings.HasPrefix(got, "538") {
		t.Fatalf("AUTH without TLS: %q", got)
	}
	if got := s.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "554 5.7.1") {
		t.Fatalf("MAIL unauthenticated: %q", got)
	}

	c, err := smtp.DialStartTLS(in.smtp, insecureTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(saslPlain("mta", "wrong password")); err == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("wrong password: %v", err)
	}
	c.Close()
	c, err = smtp.DialStartTLS(in.smtp, insecureTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(saslPlain("mta", "correct horse battery")); err != nil {
		t.Fatal(err)
	}
	msg := testMessage("a@example.com", []string{"b@ext.test"}, "auth", "hi")
	if err := c.SendMail("a@example.com", []string{"b@ext.test"}, bytes.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	got, err := sk.Wait(1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got[0].Data, []byte("with ESMTPSA id")) {
		t.Fatalf("Received header does not record TLS+AUTH:\n%.300s", got[0].Data)
	}
}

func TestPermanentFailureSendsDSN(t *testing.T) {
	sk := startSink(t)
	sk.SetRcptErr(func(rcpt string) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return nil
	})
	in := newInstance(t, sk.Addr, "")
	in.start()
	msg := testMessage("sender@example.com", []string{"nobody@ext.test", "ok@ext.test"}, "dsn", "hello")
	if err := sendMail(in.smtp, "sender@example.com", []string{"nobody@ext.test", "ok@ext.test"}, msg); err != nil {
		t.Fatal(err)
	}
	got, err := sk.Wait(2, 10*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, in.logs())
	}
	var dsn *sink.Message
	for i := range got {
		if got[i].From == "" {
			dsn = &got[i]
		}
	}
	if dsn == nil {
		t.Fatalf("no DSN with a null sender among %d messages", len(got))
	}
	if len(dsn.To) != 1 || dsn.To[0] != "sender@example.com" {
		t.Fatalf("DSN to %q", dsn.To)
	}
	for _, want := range []string{"multipart/report", "report-type=delivery-status", "Final-Recipient: rfc822; nobody@ext.test",
		"Action: failed", "Status: 5.1.1", "Message-ID: <dsn@test>"} {
		if !bytes.Contains(dsn.Data, []byte(want)) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if bytes.Contains(dsn.Data, []byte("Final-Recipient: rfc822; ok@ext.test")) {
		t.Error("DSN names the recipient that was delivered")
	}
	// A bounce of the null sender is never bounced again.
	sk.SetRcptErr(func(string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No"}
	})
	if err := sendMail(in.smtp, "", []string{"x@ext.test"}, testMessage("", []string{"x@ext.test"}, "null", "x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := len(sk.Messages()); n != 2 {
		t.Fatalf("%d messages at the sink; a null-sender failure must not generate a DSN", n)
	}
}

// TestKillNineLosesNothing crashes the real binary with SIGKILL at random
// points while hundreds of messages are in flight; every message that got
// 250 must arrive (at least once), and duplicates stay within the window
// the README states: a delivery is repeated only if the process died
// between the next hop's 250 and the commit of that result.
func TestKillNineLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	var mu sync.Mutex
	accepted := map[string]bool{}
	rounds := 4
	if n, err := strconv.Atoi(os.Getenv("SENDGUARD_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n // more rounds for a measurement
	}
	per := 1500
	interrupted := 0
	var kills []time.Time
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range rounds {
		in.start()
		var wg sync.WaitGroup
		next := make(chan int)
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					id := fmt.Sprintf("k%d-%d", round, i)
					msg := testMessage("s@example.com", []string{"r@ext.test"}, id, strings.Repeat("crash test body ", 60))
					if err := sendMail(in.smtp, "s@example.com", []string{"r@ext.test"}, msg); err == nil {
						mu.Lock()
						accepted[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		killAt := time.Duration(200+rng.IntN(400)) * time.Millisecond
		killedAt := make(chan time.Time, 1)
		// A kill's time is taken once the process is dead, so that a copy
		// the sink received while the signal was on its way counts
		// against this kill, not the next one.
		timer := time.AfterFunc(killAt, func() { in.kill(); killedAt <- time.Now() })
		for i := range per {
			next <- i
		}
		close(next)
		wg.Wait()
		if !timer.Stop() {
			interrupted++ // killed while messages were in flight
			kills = append(kills, <-killedAt)
		} else {
			// Delivery of the round's messages is still under way.
			in.kill()
			kills = append(kills, time.Now())
		}
	}
	if interrupted == 0 {
		t.Fatal("no round was killed mid-flight; the test proves nothing")
	}
	in.start()
	mu.Lock()
	want := len(accepted)
	mu.Unlock()
	if want == 0 {
		t.Fatal("no message was accepted at all")
	}
	idRE := regexp.MustCompile(`Message-ID: <([^@]+)@test>`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		first := map[string]time.Time{}
		copies := map[string]int{}
		for _, m := range sk.Messages() {
			if sm := idRE.FindSubmatch(m.Data); sm != nil {
				id := string(sm[1])
				if copies[id] == 0 {
					first[id] = m.At
				}
				copies[id]++
			}
		}
		missing := 0
		for id := range accepted {
			if copies[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			// Each duplicate belongs to the kill that followed its first
			// delivery; how long before that kill it arrived shows the
			// window the duplicate fell into.
			perKill := make([]int, len(kills))
			var before []time.Duration
			dups := 0
			for id, n := range copies {
				if n < 2 {
					continue
				}
				dups += n - 1
				k := slices.IndexFunc(kills, first[id].Before)
				if k < 0 {
					t.Fatalf("%s was delivered %d times, first after the last kill: a repeat without a crash", id, n)
				}
				perKill[k] += n - 1
				before = append(before, kills[k].Sub(first[id]))
			}
			slices.Sort(before)
			t.Logf("%d accepted across %d crashes, all delivered; %d deliveries at the sink, %d duplicates (per kill %v; first copy arrived before its kill by %v)",
				want, rounds, len(sk.Messages()), dups, perKill, before)
			// A kill can repeat only the transactions in flight to the
			// sink between its receipt of the data and the journal write
			// after its 250: at most one per connection to it
			// (delivery.max_conns_per_dest, 10 by default). More means a
			// 250 is not recorded promptly; a round delivers hundreds.
			const inFlight = 10
			for k, n := range perKill {
				if n > inFlight {
					t.Fatalf("kill %d repeated %d deliveries, more than the %d that can be in flight: a 250 from the next hop is not recorded promptly", k, n, inFlight)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted messages never arrived\n%s", missing, want, in.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestSIGTERMExitsCleanly(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	if err := sendMail(in.smtp, "s@example.com", []string{"r@ext.test"}, testMessage("s@example.com", []string{"r@ext.test"}, "term", "x")); err != nil {
		t.Fatal(err)
	}
	if err := in.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, in.logs())
	}
	if !strings.Contains(in.logs(), "stopped") {
		t.Fatalf("no clean stop in logs:\n%s", in.logs())
	}
}
