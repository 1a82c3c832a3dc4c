package main

import (
	"encoding/json"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/sink"
)

// cardBody carries a Luhn-valid card number: to an external recipient the
// default policy holds it for review.
const cardBody = "Card: 4111 1111 1111 1111 exp 12/29"

// routedForms are recipient addresses whose domain after the last '@' is not
// the only place a next hop could send them.
var routedForms = []struct{ name, rcpt string }{
	{"two-at", "x@example.com@evil.example"},
	{"quoted-at", `"x@example.com"@evil.example`},
	{"percent", "x%evil.example@example.com"},
	{"bang", "evil.example!x@example.com"},
}

// TestRoutedRecipientsRefused: by default each routed form is refused at
// RCPT with a permanent 553 5.1.3 naming the problem, and nothing reaches
// the next hop, even when the client goes on to send DATA.
func TestRoutedRecipientsRefused(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	s := dialRaw(t, in.smtp)
	s.reply()
	s.cmd("EHLO client.test")
	for _, f := range routedForms {
		if r := s.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(r, "250 ") {
			t.Fatalf("MAIL: %s", r)
		}
		r := s.cmd("RCPT TO:<" + f.rcpt + ">")
		if !strings.HasPrefix(r, "553 5.1.3 ") || !strings.Contains(r, "Routed recipient") {
			t.Errorf("%s: RCPT TO:<%s> = %q, want 553 5.1.3 routed", f.name, f.rcpt, r)
		}
		if r := s.cmd("DATA"); strings.HasPrefix(r, "354") {
			s.send("Subject: x\r\n\r\n" + cardBody + "\r\n.\r\n")
			t.Errorf("%s: DATA accepted after the only recipient was refused: %s", f.name, s.reply())
		}
		s.cmd("RSET")
	}
	// A source route is dropped by the SMTP layer (RFC 5321 §3.6.1 lets a
	// server ignore it): the mail goes to the final mailbox, internal here,
	// and the route never reaches the next hop.
	msg := testMessage("a@example.com", []string{"x@example.com"}, "route", "hello")
	if err := sendMail(in.smtp, "a@example.com", []string{"@evil.example:x@example.com"}, msg); err != nil {
		t.Fatalf("source route: %v", err)
	}
	got, err := sk.Wait(1, 10*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, in.logs())
	}
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "x@example.com" {
		t.Fatalf("next hop got %+v", got)
	}
}

// TestRoutedRecipientsHeldWhenExternal: with smtp.routed_addresses:
// external the routed forms are accepted, counted as external and held;
// none is delivered unchecked. With a card number the pii-external rule
// holds for review; without, the look-alike rule holds for the sender.
func TestRoutedRecipientsHeldWhenExternal(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	setConfig(t, in, "  trusted_networks: [127.0.0.0/8]\n", "  trusted_networks: [127.0.0.0/8]\n  routed_addresses: external\n")
	in.start()
	for i, f := range routedForms {
		for _, body := range []string{cardBody, "hello"} {
			msg := testMessage("a@example.com", []string{"y@example.com"}, f.name, body)
			if err := sendMail(in.smtp, "a@example.com", []string{f.rcpt}, msg); err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
		}
		waitFor(t, 10*time.Second, func() bool { return len(heldMessages(t, in)) == 2*(i+1) })
	}
	time.Sleep(500 * time.Millisecond)
	// The next hop gets the hold notices to the sender, nothing else.
	for _, m := range sk.Messages() {
		if len(m.To) != 1 || m.To[0] != "a@example.com" {
			t.Fatalf("next hop got a message to %q", m.To)
		}
	}
	for _, id := range heldMessages(t, in) {
		out, err := in.cli("queue", "show", id, "-json")
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			Applied []string `json:"applied"`
			Report  struct {
				Recipients struct {
					Total, External int
					Lookalike       []struct{ Reason string }
				} `json:"recipients"`
			} `json:"report"`
		}
		if err := json.Unmarshal([]byte(out), &rec); err != nil {
			t.Fatalf("queue show: %v\n%s", err, out)
		}
		r := rec.Report.Recipients
		if r.Total != 1 || r.External != 1 || len(r.Lookalike) != 1 || !strings.HasPrefix(r.Lookalike[0].Reason, "routed address") {
			t.Errorf("%s: recipients %+v (applied %v)", id, r, rec.Applied)
		}
	}
}

// TestRoutedRecipientRelayedQuoted: a released routed recipient reaches the
// next hop with its local part quoted, i.e. at the domain analysed.
func TestRoutedRecipientRelayedQuoted(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	setConfig(t, in, "  trusted_networks: [127.0.0.0/8]\n", "  trusted_networks: [127.0.0.0/8]\n  routed_addresses: external\n")
	in.start()
	msg := testMessage("a@example.com", []string{"y@example.com"}, "quoted", "hello")
	if err := sendMail(in.smtp, "a@example.com", []string{"x@example.com@evil.example", `"john doe"@ext.example`}, msg); err != nil {
		t.Fatal(err)
	}
	var id string
	waitFor(t, 10*time.Second, func() bool {
		h := heldMessages(t, in)
		if len(h) == 1 {
			id = h[0]
		}
		return id != ""
	})
	if out, err := in.cli("queue", "release", id, "-reason", "checked"); err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	var got *sink.Message
	waitFor(t, 10*time.Second, func() bool {
		for _, m := range sk.Messages() {
			if m.From == "a@example.com" {
				got = &m
			}
		}
		return got != nil
	})
	// go-smtp in the sink unquotes: both arrive as local part + domain.
	want := map[string]bool{"x@example.com@evil.example": true, "john doe@ext.example": true}
	if len(got.To) != 2 || !want[got.To[0]] || !want[got.To[1]] {
		t.Errorf("next hop got recipients %q", got.To)
	}
	out, _ := in.cli("queue", "show", id, "-json")
	if !strings.Contains(out, `"\"x@example.com\"@evil.example"`) || !strings.Contains(out, `"\"john doe\"@ext.example"`) {
		t.Errorf("record does not keep the quoted forms:\n%s", out)
	}
}

// TestLongLinesBouncePermanently: a line over smtp.max_line_length gets a
// permanent 552 5.3.4 naming the limit — slightly over (the session goes on)
// and far over the SMTP library's own limit (the reply still arrives).
func TestLongLinesBouncePermanently(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	for _, n := range []int{70_000, 9 << 20} {
		s := dialRaw(t, in.smtp)
		s.c.SetDeadline(time.Now().Add(60 * time.Second))
		s.reply()
		s.cmd("EHLO client.test")
		s.cmd("MAIL FROM:<a@example.com>")
		s.cmd("RCPT TO:<b@ext.example>")
		if r := s.cmd("DATA"); !strings.HasPrefix(r, "354") {
			t.Fatalf("DATA: %s", r)
		}
		start := time.Now()
		go s.send("Subject: long\r\n\r\n" + strings.Repeat("x", n) + "\r\nend\r\n.\r\n")
		r := s.reply()
		t.Logf("%d-byte line: %q after %s", n, r, time.Since(start))
		if !strings.HasPrefix(r, "552 5.3.4 ") || !strings.Contains(r, "65536") {
			t.Errorf("%d-byte line: reply %q, want 552 5.3.4 naming the limit", n, r)
		}
		if n == 70_000 {
			if r := s.cmd("RSET"); !strings.HasPrefix(r, "250") {
				t.Errorf("session not usable after the refusal: %q", r)
			}
		}
	}
	if n := len(sk.Messages()); n != 0 {
		t.Fatalf("%d messages with over-long lines delivered", n)
	}
}

// TestEnvelopeUTF8: invalid UTF-8 in an address is refused; a non-ASCII
// address needs SMTPUTF8 on MAIL FROM.
func TestEnvelopeUTF8(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	s := dialRaw(t, in.smtp)
	s.reply()
	s.cmd("EHLO client.test")
	steps := []struct{ cmd, want string }{
		{"MAIL FROM:<a\xff@example.com> SMTPUTF8", "553 5.1.7 "},
		{"MAIL FROM:<a@example.com> SMTPUTF8", "250 "},
		{"RCPT TO:<b\xfe\xff@ext.example>", "553 5.1.3 "},
		{"RCPT TO:<山田@ext.example>", "250 "},
		{"RSET", "250 "},
		{"MAIL FROM:<山田@example.com>", "553 5.6.7 "},
		{"MAIL FROM:<a@example.com>", "250 "},
		{"RCPT TO:<山田@ext.example>", "553 5.6.7 "},
		{"RCPT TO:<b@例え.jp>", "553 5.6.7 "},
	}
	for _, st := range steps {
		if r := s.cmd(st.cmd); !strings.HasPrefix(r, st.want) {
			t.Errorf("%q = %q, want %q", st.cmd, r, st.want)
		}
	}
}

// TestSMTPUTF8NextHop: a message to a non-ASCII address is relayed to a
// next hop that offers SMTPUTF8, and bounces (DSN to the sender) at one
// that does not.
func TestSMTPUTF8NextHop(t *testing.T) {
	for _, offer := range []bool{true, false} {
		sk, err := sink.StartWith("127.0.0.1:0", sink.Options{NoSMTPUTF8: !offer})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sk.Close() })
		in := newInstance(t, sk.Addr, "")
		in.start()
		c, err := smtp.Dial(in.smtp)
		if err != nil {
			t.Fatal(err)
		}
		msg := testMessage("a@example.com", []string{"y@ext.example"}, "utf8", "hello")
		if err := c.Mail("a@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("山田@ext.example"); err != nil {
			t.Fatalf("offer=%v: RCPT: %v", offer, err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write(msg)
		if err := w.Close(); err != nil {
			t.Fatalf("offer=%v: DATA: %v", offer, err)
		}
		c.Quit()
		if offer {
			got, err := sk.Wait(1, 15*time.Second)
			if err != nil {
				t.Fatalf("%v\n%s", err, in.logs())
			}
			if len(got[0].To) != 1 || got[0].To[0] != "山田@ext.example" {
				t.Errorf("SMTPUTF8 next hop got %q", got[0].To)
			}
			continue
		}
		// A permanent failure, so the sender gets a DSN: it needs no
		// SMTPUTF8 itself (the sender's address is ASCII; the recipient
		// travels in its 8-bit body), so it is the only thing that reaches
		// this next hop.
		waitFor(t, 15*time.Second, func() bool {
			out, _ := in.cli("queue", "list", "-all", "-json")
			var list []struct{ ID, Kind, State string }
			json.Unmarshal([]byte(out), &list)
			bounced, dsn := false, false
			for _, m := range list {
				if m.Kind == "mail" && m.State == "bounced" {
					show, _ := in.cli("queue", "show", m.ID)
					bounced = strings.Contains(show, "5.6.7")
				}
				dsn = dsn || m.Kind == "dsn"
			}
			return bounced && dsn
		})
		got, err := sk.Wait(1, 15*time.Second)
		if err != nil {
			t.Fatalf("no DSN at the next hop: %v\n%s", err, in.logs())
		}
		for _, m := range got {
			if m.From != "" || len(m.To) != 1 || strings.ContainsRune(m.To[0], '山') {
				t.Errorf("next hop without SMTPUTF8 got from %q to %q, want only the DSN to the sender", m.From, m.To)
			}
		}
	}
}

// setConfig edits the instance's config file before start.
func setConfig(t *testing.T, in *instance, old, repl string) {
	t.Helper()
	b, err := os.ReadFile(in.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("config has no %q", old)
	}
	if err := os.WriteFile(in.cfgPath, []byte(strings.Replace(string(b), old, repl, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// heldMessages lists the IDs of held messages.
func heldMessages(t *testing.T, in *instance) []string {
	t.Helper()
	out, err := in.cli("queue", "list", "-state", "held", "-json")
	if err != nil {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	ids := make([]string, 0, len(list))
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	return ids
}

// TestPostfixRoutedRecipientBounced: behind a real Postfix, a routed
// recipient is refused by sendguard at RCPT and Postfix bounces it to the
// sender (a DSN, through sendguard); the routed address never reaches the
// next hop.
func TestPostfixRoutedRecipientBounced(t *testing.T) {
	requirePostfix(t)
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	pf := startPostfix(t, in.smtp)
	for _, rcpt := range []string{`"x@example.com"@evil.example`, "x%evil.example@example.com"} {
		msg := testMessage("alice@example.com", []string{"y@example.com"}, "routed", cardBody)
		if err := sendMail(pf.smtpd, "alice@example.com", []string{rcpt}, msg); err != nil {
			t.Fatalf("submit %s to postfix: %v\n%s", rcpt, err, pf.log())
		}
	}
	got, err := sk.Wait(2, 60*time.Second)
	if err != nil {
		t.Fatalf("%v\npostfix log:\n%s\nsendguard log:\n%s", err, pf.log(), in.logs())
	}
	for _, m := range got {
		if len(m.To) != 1 || m.To[0] != "alice@example.com" || !strings.Contains(string(m.Data), "553 5.1.3") {
			t.Errorf("next hop got a message to %q, want only bounces to the sender:\n%.600s", m.To, m.Data)
		}
	}
	if log := pf.log(); strings.Count(log, "status=bounced") != 2 || !strings.Contains(log, `<"x@example.com"@evil.example>`) {
		t.Errorf("postfix did not bounce both with the quoted form kept:\n%s", log)
	}
}
