package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/sendguard/sendguard/internal/sink"
)

// The sender-confirmation flow end to end with the real binary: a held
// mail, its notice at the sink, the link followed, the page's form posted.

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/h/[A-Za-z0-9_-]{43}`)

// noticeText returns the decoded text/plain part of a notice.
func noticeText(t testing.TB, data []byte) string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("notice is not MIME: %v", err)
	}
	var out strings.Builder
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read notice: %v", err)
		}
		if ih, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := ih.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				out.Write(b)
			}
		}
	}
	return out.String()
}

// waitNotice waits for a notice to rcpt whose text contains want.
func waitNotice(t testing.TB, sk *sink.Sink, rcpt, want string) string {
	t.Helper()
	var text string
	waitFor(t, 15*time.Second, func() bool {
		for _, m := range sk.Messages() {
			if m.From != "" || len(m.To) != 1 || m.To[0] != rcpt {
				continue
			}
			if s := noticeText(t, m.Data); strings.Contains(s, want) {
				text = s
				return true
			}
		}
		return false
	})
	return text
}

func massRecipients(tag string) []string {
	var to []string
	for i := range 12 {
		to = append(to, fmt.Sprintf("%s%d@customer%d.test", tag, i, i))
	}
	return to
}

// pageForm fetches a link page and returns the form fields a person would
// submit: the CSRF token, the language and every acknowledgement box.
func pageForm(t testing.TB, link string) (url.Values, string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", link, resp.Status, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("page CSP = %q", csp)
	}
	f := url.Values{}
	if m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body); m != nil {
		f.Set("csrf", string(m[1]))
	}
	if m := regexp.MustCompile(`name="lang" value="([^"]+)"`).FindSubmatch(body); m != nil {
		f.Set("lang", string(m[1]))
	}
	for _, m := range regexp.MustCompile(`name="ack" value="([^"]+)"`).FindAllSubmatch(body, -1) {
		f.Add("ack", string(m[1]))
	}
	return f, string(body)
}

func post(t testing.TB, link string, f url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", link, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(link)
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func countByID(sk *sink.Sink, id string) int {
	n := 0
	for _, m := range sk.Messages() {
		if m.From != "" && bytes.Contains(m.Data, []byte("Message-ID: <"+id+"@test>")) {
			n++
		}
	}
	return n
}

func TestSenderConfirmsHeldMail(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()

	to := massRecipients("c")
	if err := sendMail(in.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "confirm-me", "newsletter")); err != nil {
		t.Fatal(err)
	}
	text := waitNotice(t, sk, "alice@example.com", "/h/")
	link := linkRE.FindString(text)
	if link == "" || !strings.HasPrefix(link, "http://"+in.web) {
		t.Fatalf("no link to this instance in the notice:\n%s", text)
	}
	// A prefetching scanner: GETs change nothing.
	for range 3 {
		pageForm(t, link)
	}
	time.Sleep(300 * time.Millisecond)
	if countByID(sk, "confirm-me") != 0 {
		t.Fatal("a GET released the message")
	}
	f, page := pageForm(t, link)
	if len(f["ack"]) < 2 || !strings.Contains(page, "customer1.test") {
		t.Fatalf("confirm page lacks the recipients or their boxes (acks=%v)", f["ack"])
	}
	if !regexp.MustCompile(`id="body-preview">newsletter</pre>`).MatchString(page) {
		t.Fatal("confirm page lacks the body preview")
	}
	// Without every box ticked, Send is refused and nothing moves.
	partial := url.Values{"csrf": f["csrf"], "lang": f["lang"], "ack": f["ack"][:1], "action": {"send"}}
	if code, _ := post(t, link, partial); code == 200 {
		time.Sleep(300 * time.Millisecond)
	}
	if countByID(sk, "confirm-me") != 0 {
		t.Fatal("sent without every acknowledgement")
	}
	// A forged request without the CSRF token changes nothing.
	forged := url.Values{"ack": f["ack"], "action": {"send"}}
	if code, _ := post(t, link, forged); code != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d", code)
	}
	// 50 concurrent confirmations of one link: exactly one delivery.
	f.Set("action", "send")
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, link, f)
		}()
	}
	wg.Wait()
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "confirm-me") == 1 })
	time.Sleep(time.Second)
	if n := countByID(sk, "confirm-me"); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
	msgs := mailsFrom(sk, "alice@example.com")
	if len(msgs[0].To) != 12 {
		t.Fatalf("released to %d recipients, want 12", len(msgs[0].To))
	}
	// The link is spent: replaying it changes nothing and says so.
	if code, body := post(t, link, f); code == 200 && !strings.Contains(body, "already") && !strings.Contains(body, "既に") {
		t.Fatalf("replayed link: %d\n%.500s", code, body)
	}
}

func TestSenderCancelsHeldMail(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "notify:\n  languages:\n    bob@example.com: en\n")
	in.start()
	to := massRecipients("d")
	if err := sendMail(in.smtp, "bob@example.com", to, testMessage("bob@example.com", to, "cancel-me", "oops")); err != nil {
		t.Fatal(err)
	}
	notice := waitNotice(t, sk, "bob@example.com", "/h/")
	if strings.ContainsFunc(notice, func(r rune) bool { return r >= 0x3040 && r <= 0x30ff }) {
		t.Fatalf("notice to a sender configured for English contains Japanese:\n%s", notice)
	}
	link := linkRE.FindString(notice)
	f, _ := pageForm(t, link)
	f.Set("action", "cancel")
	if code, body := post(t, link, f); code != 200 {
		t.Fatalf("cancel: %d\n%.500s", code, body)
	}
	// The sender hears that it was cancelled; the mail never leaves.
	waitNotice(t, sk, "bob@example.com", "cancel")
	time.Sleep(time.Second)
	if n := countByID(sk, "cancel-me"); n != 0 {
		t.Fatalf("cancelled mail delivered %d times", n)
	}
	// Wrong, truncated and forged tokens get a clear page and change nothing.
	for _, bad := range []string{link[:len(link)-5], link[:len(link)-1] + "A", "http://" + in.web + "/h/" + strings.Repeat("A", 43)} {
		resp, err := http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("bad link %s answered 200", bad)
		}
	}
}

func TestHeldMailExpires(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "hold:\n  expire_after: 2s\n")
	in.start()
	to := massRecipients("e")
	if err := sendMail(in.smtp, "carol@example.com", to, testMessage("carol@example.com", to, "expire-me", "late")); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, sk, "carol@example.com", "/h/")
	// Nobody decides: after the deadline the sender is told, nothing leaves.
	waitNotice(t, sk, "carol@example.com", "expire")
	if n := countByID(sk, "expire-me"); n != 0 {
		t.Fatalf("expired mail delivered %d times", n)
	}
}

// TestDelayReleasesUnlessCancelled: the classic 一時保留. A delayed mail
// leaves by itself when the delay ends; one the sender cancels never does.
func TestDelayReleasesUnlessCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a one-minute delay")
	}
	t.Parallel()
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	policyPath := in.dir + "/policy.yaml"
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
	if err := writeFile(policyPath, pol); err != nil {
		t.Fatal(err)
	}
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
	in.start()

	keep, drop := []string{"k@partner.test"}, []string{"d@partner.test"}
	start := time.Now()
	if err := sendMail(in.smtp, "dave@example.com", keep, testMessage("dave@example.com", keep, "delayed", "x")); err != nil {
		t.Fatal(err)
	}
	if err := sendMail(in.smtp, "erin@example.com", drop, testMessage("erin@example.com", drop, "dropped", "x")); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, sk, "dave@example.com", "/h/")
	link := linkRE.FindString(waitNotice(t, sk, "erin@example.com", "/h/"))
	f, _ := pageForm(t, link)
	f.Set("action", "cancel")
	if code, body := post(t, link, f); code != 200 {
		t.Fatalf("cancel: %d %.300s", code, body)
	}
	if countByID(sk, "delayed") != 0 {
		t.Fatal("delayed mail left before its delay")
	}
	waitFor(t, 100*time.Second, func() bool { return countByID(sk, "delayed") == 1 })
	if d := time.Since(start); d < 55*time.Second {
		t.Fatalf("delayed mail left after %s, before the one-minute delay", d)
	}
	time.Sleep(2 * time.Second)
	if n := countByID(sk, "dropped"); n != 0 {
		t.Fatalf("cancelled delayed mail delivered %d times", n)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// TestSenderSendsInBcc: "send with all recipients in Bcc" — To/Cc keep no
// external address, every envelope recipient still gets the mail, and
// every other byte is as sent.
func TestSenderSendsInBcc(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	to := massRecipients("b")
	all := append([]string{"team@example.com"}, to...)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Alice <alice@example.com>\r\nTo: %s\r\nCc: Team <team@example.com>\r\nSubject: =?UTF-8?B?5qGI5YaF?=\r\nMessage-ID: <bcc-me@test>\r\n\r\nHello all.\r\n", angleList(to))
	if err := sendMail(in.smtp, "alice@example.com", all, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	link := linkRE.FindString(waitNotice(t, sk, "alice@example.com", "/h/"))
	f, page := pageForm(t, link)
	if !strings.Contains(page, `value="send_bcc"`) {
		t.Fatal("confirm page of a mass-exposure hold offers no Bcc conversion")
	}
	f.Set("action", "send_bcc")
	if code, body := post(t, link, f); code != 200 {
		t.Fatalf("send_bcc: %d %.300s", code, body)
	}
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "bcc-me") == 1 })
	m := mailsFrom(sk, "alice@example.com")[0]
	if len(m.To) != len(all) {
		t.Fatalf("envelope has %d recipients, want %d", len(m.To), len(all))
	}
	hdr, body, _ := strings.Cut(string(m.Data), "\r\n\r\n")
	for _, a := range to {
		if strings.Contains(hdr, a) {
			t.Fatalf("external %s still visible:\n%s", a, hdr)
		}
	}
	for _, keep := range []string{"Cc: Team <team@example.com>", "Subject: =?UTF-8?B?5qGI5YaF?=", "From: Alice <alice@example.com>", "To: undisclosed-recipients:;"} {
		if !strings.Contains(hdr, keep) {
			t.Errorf("header lacks %q:\n%s", keep, hdr)
		}
	}
	if body != "Hello all.\r\n" {
		t.Errorf("body changed: %q", body)
	}
}

// TestConfirmThenCrash: kill -9 right after the sender's confirmation was
// answered; after restart the mail is delivered exactly once (release and
// enqueue are one transaction).
func TestConfirmThenCrash(t *testing.T) {
	sk := startSink(t)
	// The next hop defers the released mail until the gateway has been
	// killed and restarted: the kill then always falls between the confirm
	// and the delivery, never inside the one window no relay can close (the
	// remote's 250 before our own journal write), so a duplicate here is a
	// real fault and not a timing accident.
	var deferMail atomic.Bool
	sk.SetRcptErr(func(rcpt string) *smtp.SMTPError {
		if deferMail.Load() && strings.HasPrefix(rcpt, "x") {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	in := newInstance(t, sk.Addr, "")
	in.start()
	const n = 3
	for i := range n {
		id := fmt.Sprintf("crash-confirm-%d", i)
		to := massRecipients(fmt.Sprintf("x%d-", i))
		from := fmt.Sprintf("u%d@example.com", i)
		if err := sendMail(in.smtp, from, to, testMessage(from, to, id, "x")); err != nil {
			t.Fatal(err)
		}
		link := linkRE.FindString(waitNotice(t, sk, from, "/h/"))
		f, _ := pageForm(t, link)
		f.Set("action", "send")
		deferMail.Store(true)
		if code, body := post(t, link, f); code != 200 {
			t.Fatalf("confirm: %d %.300s", code, body)
		}
		in.kill()
		deferMail.Store(false)
		in.start()
		waitFor(t, 15*time.Second, func() bool { return countByID(sk, id) >= 1 })
	}
	time.Sleep(time.Second)
	for i := range n {
		if c := countByID(sk, fmt.Sprintf("crash-confirm-%d", i)); c != 1 {
			t.Fatalf("message %d delivered %d times", i, c)
		}
	}
}

// TestApproverDecides: hold_approver sends the approver a link; an approval
// releases the mail and tells the sender; a rejection keeps it and tells
// the sender why.
func TestApproverDecides(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "hold:\n  approvers:\n    \"@example.com\": [boss@example.com]\n")
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, `version: 1
rules:
  - name: needs-approval
    when: recipients.external > 0
    actions: [hold_approver]
    reason:
      ja: 上長の承認が必要です。
      en: A manager must approve mail to outside recipients.
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"policy: "+policyPath+"\n")
	in.start()

	decide := func(from, id, action, reason string) {
		to := []string{"client@partner.test"}
		if err := sendMail(in.smtp, from, to, testMessage(from, to, id, "please approve")); err != nil {
			t.Fatal(err)
		}
		var link string
		waitFor(t, 15*time.Second, func() bool {
			for _, m := range sk.Messages() {
				if m.From == "" && len(m.To) == 1 && m.To[0] == "boss@example.com" {
					if l := linkRE.FindString(noticeText(t, m.Data)); l != "" && strings.Contains(noticeText(t, m.Data), id) {
						link = l
						return true
					}
				}
			}
			return false
		})
		f, page := pageForm(t, link)
		if !strings.Contains(page, `value="approve"`) {
			t.Fatal("approver page has no approve button")
		}
		f.Set("action", action)
		f.Set("reason", reason)
		if code, body := post(t, link, f); code != 200 {
			t.Fatalf("%s: %d %.300s", action, code, body)
		}
	}
	decide("dan@example.com", "approve-me", "approve", "")
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "approve-me") == 1 })
	waitNotice(t, sk, "dan@example.com", "approve-me")

	decide("eve@example.com", "reject-me", "reject", "wrong customer list")
	waitNotice(t, sk, "eve@example.com", "wrong customer list")
	if countByID(sk, "reject-me") != 0 {
		t.Fatal("rejected mail delivered")
	}
}

// TestNoticesUseNotifyRelay: notices go to notify.relay (the internal MTA),
// mail to the next hop.
func TestNoticesUseNotifyRelay(t *testing.T) {
	sk := startSink(t)
	internal := startSink(t)
	in := newInstance(t, sk.Addr, fmt.Sprintf("notify:\n  relay: %q\n", internal.Addr))
	in.start()
	to := massRecipients("n")
	if err := sendMail(in.smtp, "alice@example.com", to, testMessage("alice@example.com", to, "via-relay", "x")); err != nil {
		t.Fatal(err)
	}
	link := linkRE.FindString(waitNotice(t, internal, "alice@example.com", "/h/"))
	for _, m := range sk.Messages() {
		if m.From == "" {
			t.Fatal("a notice went to the next hop instead of notify.relay")
		}
	}
	f, _ := pageForm(t, link)
	f.Set("action", "send")
	if code, body := post(t, link, f); code != 200 {
		t.Fatalf("confirm: %d %.300s", code, body)
	}
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "via-relay") == 1 })
	if countByID(internal, "via-relay") != 0 {
		t.Fatal("the mail itself went to notify.relay")
	}
}
