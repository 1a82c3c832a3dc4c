package dsn

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

var update = flag.Bool("update", false, "rewrite golden files")

const original = "Received: from client.example.com\r\n" +
	"Message-ID: <orig-1@example.com>\r\n" +
	"From: =?UTF-8?B?5bGx55Sw?= <taro@example.com>\r\n" +
	"To: someone@partner.example\r\n" +
	"Subject: quarterly report\r\n" +
	"\r\n" +
	"Body line 1\r\nBody line 2\r\n"

var (
	arrival = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	now     = time.Date(2026, 11, 23, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
)

func failedParams() Params {
	return Params{
		ReportingMTA: "gw.example.com",
		To:           "taro@example.com",
		QueueID:      "Q123",
		EnvID:        "ENV-1",
		ArrivalDate:  arrival,
		Date:         now,
		MessageID:    "dsn-1@gw.example.com",
		Original:     strings.NewReader(original),
		Recipients: []Recipient{
			{Final: "nobody@partner.example", Original: "nobody@partner.example", Action: Failed, Status: "5.1.1",
				Diagnostic: "550 5.1.1 <nobody@partner.example>: Recipient address rejected",
				RemoteMTA:  "mx.partner.example[192.0.2.25]", LastAttempt: now},
			{Final: "x@nullmx.example", Action: Failed, Status: "5.1.10", Reason: "domain does not accept mail (null MX)", LastAttempt: now},
		},
	}
}

func delayedParams() Params {
	p := failedParams()
	p.MessageID = "dsn-2@gw.example.com"
	p.Recipients = []Recipient{{Final: "slow@partner.example", Action: Delayed, Status: "4.4.1",
		Reason: "connect to mx.partner.example: connection refused", LastAttempt: now, WillRetryUntil: now.Add(96 * time.Hour)}}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update after checking)\n%s", name, got)
	}
}

// parsed is a DSN taken apart with go-message.
type parsed struct {
	header   mail.Header
	text     string
	msgField textproto.Header
	rcpts    []textproto.Header
	origType string
	orig     []byte
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in output")
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	p.header = mail.Header{Header: e.Header}
	ct, params, err := e.Header.ContentType()
	if err != nil || ct != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q %v %v", ct, params, err)
	}
	mr := e.MultipartReader()
	var parts []*message.Entity
	var bodies [][]byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part)
		bodies = append(bodies, b)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	if ct, params, _ := parts[0].Header.ContentType(); ct != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("part 1 is %s %v", ct, params)
	}
	p.text = string(bodies[0])
	if ct, _, _ := parts[1].Header.ContentType(); ct != "message/delivery-status" && ct != "message/global-delivery-status" {
		t.Errorf("part 2 is %s", ct)
	}
	br := bufio.NewReader(bytes.NewReader(bodies[1]))
	if p.msgField, err = textproto.ReadHeader(br); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := br.Peek(1); err == io.EOF {
			break
		}
		h, err := textproto.ReadHeader(br)
		if err != nil {
			t.Fatal(err)
		}
		p.rcpts = append(p.rcpts, h)
	}
	p.origType, _, _ = parts[2].Header.ContentType()
	p.orig = bodies[2]
	return p
}

func TestFailedDSN(t *testing.T) {
	raw, err := Build(failedParams())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "failed.eml", raw)
	p := parse(t, raw)

	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "MAILER-DAEMON@gw.example.com" {
		t.Errorf("From = %v %v", from, err)
	}
	for field, want := range map[string]string{
		"To": "<taro@example.com>", "Auto-Submitted": "auto-replied", "Message-Id": "<dsn-1@gw.example.com>",
		"In-Reply-To": "<orig-1@example.com>", "Date": "Mon, 23 Nov 2026 09:30:00 +0900",
	} {
		if got := p.header.Get(field); got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	if subj, _ := p.header.Subject(); !strings.Contains(subj, "配信不能") || !strings.Contains(subj, "Undelivered") {
		t.Errorf("Subject = %q", subj)
	}
	for _, want := range []string{"配信できませんでした", "could not be delivered", "<nobody@partner.example>",
		"550 5.1.1", "null MX", "(mx.partner.example[192.0.2.25])"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.text)
		}
	}

	for field, want := range map[string]string{
		"Reporting-MTA": "dns; gw.example.com", "Original-Envelope-Id": "ENV-1",
		"Arrival-Date": "Mon, 23 Nov 2026 09:00:00 +0900", "X-Sendguard-Queue-Id": "Q123",
	} {
		if got := p.msgField.Get(field); got != want {
			t.Errorf("per-message %s = %q, want %q", field, got, want)
		}
	}
	if len(p.rcpts) != 2 {
		t.Fatalf("%d recipient blocks", len(p.rcpts))
	}
	want := []map[string]string{{
		"Original-Recipient": "rfc822; nobody@partner.example",
		"Final-Recipient":    "rfc822; nobody@partner.example",
		"Action":             "failed", "Status": "5.1.1",
		"Remote-MTA":        "dns; mx.partner.example",
		"Diagnostic-Code":   "smtp; 550 5.1.1 <nobody@partner.example>: Recipient address rejected",
		"Last-Attempt-Date": "Mon, 23 Nov 2026 09:30:00 +0900",
	}, {
		"Original-Recipient": "", "Final-Recipient": "rfc822; x@nullmx.example",
		"Action": "failed", "Status": "5.1.10", "Remote-MTA": "", "Diagnostic-Code": "",
		"Will-Retry-Until": "",
	}}
	for i, w := range want {
		for field, v := range w {
			if got := p.rcpts[i].Get(field); got != v {
				t.Errorf("recipient %d %s = %q, want %q", i, field, got, v)
			}
		}
	}
	if p.origType != "text/rfc822-headers" {
		t.Errorf("original part type %s", p.origType)
	}
	if wantHdr := original[:strings.Index(original, "\r\n\r\n")+2]; string(p.orig) != wantHdr {
		t.Errorf("returned headers:\n%q\nwant\n%q", p.orig, wantHdr)
	}
}

func TestDelayedDSN(t *testing.T) {
	raw, err := Build(delayedParams())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "delayed.eml", raw)
	p := parse(t, raw)
	if subj, _ := p.header.Subject(); !strings.Contains(subj, "Delayed") || !strings.Contains(subj, "配信遅延") {
		t.Errorf("Subject = %q", subj)
	}
	r := p.rcpts[0]
	if r.Get("Action") != "delayed" || r.Get("Status") != "4.4.1" || r.Get("Will-Retry-Until") != "Fri, 27 Nov 2026 09:30:00 +0900" {
		t.Errorf("recipient block %v", r)
	}
	if !strings.Contains(p.text, "再送の必要はありません") || !strings.Contains(p.text, "will retry until") {
		t.Errorf("text:\n%s", p.text)
	}
}

func TestReturnFull(t *testing.T) {
	p := failedParams()
	p.Return = ReturnFull
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, raw)
	if d.origType != "message/rfc822" || string(d.orig) != original {
		t.Fatalf("full return: %s %q", d.origType, d.orig)
	}

	// Too large: headers only, and the text says so.
	p = failedParams()
	p.Return = ReturnFull
	p.MaxFull = 50
	raw, err = Build(p)
	if err != nil {
		t.Fatal(err)
	}
	d = parse(t, raw)
	if d.origType != "text/rfc822-headers" || bytes.Contains(d.orig, []byte("Body line")) {
		t.Fatalf("oversized original returned: %s %q", d.origType, d.orig)
	}
	if !strings.Contains(d.text, "too large") {
		t.Error("text does not say the original was too large")
	}
}

func TestHeaderInjection(t *testing.T) {
	p := failedParams()
	p.To = "taro@example.com>\r\nBcc: victim@example.net"
	p.ReportingMTA = "gw.example.com\r\nX-Evil: 1"
	p.Recipients[0].Diagnostic = "550 bad\r\n\r\nFinal-Recipient: rfc822; forged@example.net"
	p.Recipients[0].RemoteMTA = "mx\nAction: delivered"
	p.Recipients[0].Final = "a@b.example\r\nAction: delivered"
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, raw)
	if d.header.Get("Bcc") != "" || d.header.Get("X-Evil") != "" {
		t.Fatal("header injected into the DSN")
	}
	if len(d.rcpts) != 2 {
		t.Fatalf("%d recipient blocks: a block was injected", len(d.rcpts))
	}
	for _, r := range d.rcpts {
		if r.Get("Action") != "failed" || len(r.Values("Action")) != 1 || len(r.Values("Final-Recipient")) != 1 {
			t.Fatalf("recipient block altered: %v", r)
		}
	}
	if !strings.HasPrefix(d.rcpts[0].Get("Diagnostic-Code"), "smtp; 550 bad Final-Recipient") {
		t.Errorf("Diagnostic-Code = %q", d.rcpts[0].Get("Diagnostic-Code"))
	}
}

func TestBoundaryNotInContent(t *testing.T) {
	p := failedParams()
	// An original that contains the boundary the first choice would use.
	first := pickBoundary(p.MessageID, nil)
	p.Original = strings.NewReader("X-Trap: --" + first + "\r\nSubject: x\r\n\r\nbody\r\n")
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("boundary=\""+first+"\"")) {
		t.Fatal("boundary that occurs in the content was used")
	}
	if d := parse(t, raw); !strings.Contains(string(d.orig), first) {
		t.Fatal("original headers lost")
	}
}

func TestHeadersLimitAndLF(t *testing.T) {
	p := failedParams()
	var b strings.Builder
	for i := range 100 {
		b.WriteString("X-Filler-" + strings.Repeat("a", 3) + ": " + strings.Repeat("v", 60) + "\n")
		_ = i
	}
	b.WriteString("\nbody\n")
	p.Original = strings.NewReader(b.String())
	p.MaxHeaderBytes = 1000
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, raw)
	if len(d.orig) > 1000 || len(d.orig) < 900 {
		t.Fatalf("returned %d header bytes, limit 1000", len(d.orig))
	}
	if !bytes.HasSuffix(d.orig, []byte("v\r\n")) {
		t.Fatalf("headers not cut at a line end or not CRLF: %q", d.orig[len(d.orig)-20:])
	}
}

func TestBuildValidates(t *testing.T) {
	for _, p := range []Params{
		{},
		{ReportingMTA: "h", To: "a@b", Recipients: []Recipient{{Final: "x@y", Action: "delivered"}}},
	} {
		if _, err := Build(p); err == nil {
			t.Errorf("Build(%+v) accepted", p)
		}
	}
	// A malformed status is replaced by the generic one for the action.
	p := delayedParams()
	p.Recipients[0].Status = "4.4\r\nX: y"
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, raw).rcpts[0].Get("Status"); got != "4.0.0" {
		t.Errorf("Status = %q", got)
	}
}

func TestUTF8Recipient(t *testing.T) {
	p := failedParams()
	p.Recipients = p.Recipients[:1]
	p.Recipients[0].Final = "山田@例え.jp"
	raw, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, raw)
	if !bytes.Contains(raw, []byte("Content-Type: message/global-delivery-status\r\n")) {
		t.Error("UTF-8 address reported in message/delivery-status (RFC 6533 needs the global type)")
	}
	if got := d.rcpts[0].Get("Final-Recipient"); got != "utf-8; 山田@例え.jp" {
		t.Errorf("Final-Recipient = %q", got)
	}
}

func TestDiagnostic(t *testing.T) {
	if got := Diagnostic(550, "5.1.1", "no such\r\nuser"); got != "550 5.1.1 no such user" {
		t.Errorf("Diagnostic = %q", got)
	}
}

func TestShouldBounce(t *testing.T) {
	for from, want := range map[string]bool{
		"":                           false,
		"<>":                         false,
		"MAILER-DAEMON@example.com":  false,
		"mailer-daemon@example.com":  false,
		"<Mailer-Daemon@example.jp>": false,
		"MAILER-DAEMON":              false,
		"taro@example.com":           true,
		"postmaster@example.com":     true,
		"daemon@example.com":         true,
	} {
		if got := ShouldBounce(from); got != want {
			t.Errorf("ShouldBounce(%q) = %v, want %v", from, got, want)
		}
	}
}

// With default_language en, English leads the subject and the human part;
// the machine-readable part does not change by a byte, and times people
// read are in the configured zone.
func TestDSNLanguageAndZone(t *testing.T) {
	for _, name := range []string{"failed", "delayed"} {
		params := map[string]func() Params{"failed": failedParams, "delayed": delayedParams}[name]
		ja, err := Build(params())
		if err != nil {
			t.Fatal(err)
		}
		p := params()
		p.Language, p.Location = "en", time.UTC
		en, err := Build(p)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".en.eml", en)
		// Everything from the delivery-status part on is the same bytes.
		tail := func(raw []byte) []byte {
			_, after, ok := bytes.Cut(raw, []byte("Content-Description: Delivery report\r\n"))
			if !ok {
				t.Fatalf("%s: no delivery-status part", name)
			}
			return after
		}
		if !bytes.Equal(tail(ja), tail(en)) {
			t.Errorf("%s: machine-readable part depends on the language", name)
		}
		pe := parse(t, en)
		subj, _ := pe.header.Subject()
		if !strings.HasPrefix(subj, map[string]string{"failed": "Undelivered", "delayed": "Delayed"}[name]) {
			t.Errorf("%s: subject %q", name, subj)
		}
		text := pe.text
		if !strings.HasPrefix(text, "This is the mail system") || !strings.Contains(text, "このメールは") {
			t.Errorf("%s: English does not lead or Japanese is missing:\n%s", name, text)
		}
		if name == "delayed" && !strings.Contains(text, "will retry until / 再試行期限: Fri, 27 Nov 2026 00:30:00 +0000") {
			t.Errorf("retry time not in the configured zone:\n%s", text)
		}
	}
}
