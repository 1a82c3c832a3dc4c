package notify

import (
	"bytes"
	"flag"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/hold/summary"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedRand yields the same bytes every time, for golden Message-IDs.
type fixedRand struct{}

func (fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}

var testNow = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func newTestBuilder(t testing.TB) *Builder {
	t.Helper()
	b, err := NewBuilder(Options{
		From: "sendguard <sendguard@example.com>", Location: time.FixedZone("JST", 9*3600),
		Now: func() time.Time { return testNow }, Rand: fixedRand{},
	})
	if err != nil {
		t.Fatalf("new builder: %v", err)
	}
	return b
}

func sampleHold() (*hold.Record, *rules.Report) {
	rec := &hold.Record{
		ID: "q-1", Kind: hold.KindSender, State: hold.StateHeld, Sender: "taro@example.com",
		Subject:  "お見積り(4月分)",
		Deadline: testNow.Add(24 * time.Hour), CreatedAt: testNow,
		Decision: hold.Decision{Actions: []string{"hold_sender"}, Rules: []string{"lookalike"},
			Reasons: []string{"external domain resembles example.com"}},
		Language: "ja",
	}
	rep := &rules.Report{
		Recipients: rules.Recipients{
			Total: 3, External: 2, VisibleExternal: 2,
			VisibleExternalDomains: []string{"partner.co.jp", "exarnple.com"},
			ExternalDomains:        []string{"partner.co.jp", "exarnple.com"},
			Lookalike:              []rules.Lookalike{{Address: "suzuki@exarnple.com", Resembles: "example.com", Reason: "homoglyph rn/m"}},
			List: []rules.Recipient{
				{Address: "yamada@partner.co.jp", Name: "山田 花子", Field: "to", Domain: "partner.co.jp", External: true, Envelope: true},
				{Address: "suzuki@exarnple.com", Name: "Suzuki", Field: "cc", Domain: "exarnple.com", External: true, Envelope: true},
				{Address: "boss@example.com", Field: "cc", Domain: "example.com", Envelope: true},
			},
		},
		Findings: []rules.Finding{
			{Detector: "mynumber", Count: 2, Location: "attachment:顧客.csv", Samples: []string{"1234********"}, Values: []string{"123456789018"}},
			{Detector: "keyword", Count: 1, Location: "body", Samples: []string{"社外秘"}},
		},
		Attachments: []rules.Attachment{{Name: "顧客.csv", Location: "attachment:顧客.csv", Type: "text/csv", Size: 2048}},
	}
	return rec, rep
}

// noticeFor is the view of the sample hold for kind, after mutate (if
// any) changed the record or the report.
func noticeFor(kind Kind, lang string, mutate ...func(*hold.Record, *rules.Report)) Notice {
	rec, rep := sampleHold()
	for _, m := range mutate {
		m(rec, rep)
	}
	n := Notice{Kind: kind, Lang: lang, To: []string{"Taro <taro@example.com>"}, Message: summary.Of(rec, rep),
		Link: "https://sendguard.example.com/h/TOKEN"}
	if rec.Kind == hold.KindApprover {
		n.Approvers = rec.Approvers
	}
	switch kind {
	case KindRejected:
		n.Reason = "顧客リストは社外に送れません"
	case KindApprove:
		n.To = []string{"boss@example.com", "deputy@example.com"}
	}
	return n
}

// TestGolden renders every kind in ja, en and both, and compares with
// testdata/KIND.LANG.eml (rewrite with -update).
func TestGolden(t *testing.T) {
	b := newTestBuilder(t)
	for _, kind := range kinds {
		for _, lang := range []string{"ja", "en", ""} {
			name := string(kind) + "." + map[string]string{"": "both"}[lang] + lang
			t.Run(name, func(t *testing.T) {
				msg, err := b.Build(noticeFor(kind, lang))
				if err != nil {
					t.Fatalf("build: %v", err)
				}
				checkWellFormed(t, msg)
				golden(t, name, msg)
			})
		}
	}
}

// golden compares msg with testdata/NAME.eml, or rewrites it with -update.
func golden(t *testing.T, name string, msg []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".eml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, msg, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if !bytes.Equal(msg, want) {
		t.Errorf("%s differs from golden file; run go test ./notify -update and review the diff", path)
	}
}

// checkWellFormed parses msg as a mail reader would and checks the fixed
// parts of the contract.
func checkWellFormed(t *testing.T, msg []byte) (text, html string) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatal("bare CR or LF in message")
	}
	for i, line := range bytes.Split(msg, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line %d is %d bytes", i, len(line))
		}
	}
	r, err := gomail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h := r.Header
	if got := h.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if id, err := h.MessageID(); err != nil || !strings.HasSuffix(id, "@example.com") {
		t.Errorf("Message-ID = %q, %v", id, err)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "sendguard@example.com" {
		t.Errorf("From = %v, %v", from, err)
	}
	if mt, _, _ := h.ContentType(); mt != "multipart/alternative" {
		t.Errorf("Content-Type = %q", mt)
	}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ph := p.Header.(*gomail.InlineHeader)
		mt, params, _ := ph.ContentType()
		if params["charset"] != "UTF-8" && params["charset"] != "utf-8" {
			t.Errorf("%s charset = %q", mt, params["charset"])
		}
		switch mt {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		default:
			t.Errorf("unexpected part %s", mt)
		}
	}
	if text == "" || html == "" {
		t.Fatalf("missing part: text %d bytes, html %d bytes", len(text), len(html))
	}
	if k := regexp.MustCompile(`\[[a-z_]+\.[a-z_.-]+\]`).FindString(text + html); k != "" {
		t.Errorf("untranslated key %s", k)
	}
	if strings.Contains(text+html, "123456789018") {
		t.Error("unmasked finding value in notice")
	}
	return text, html
}

func TestSubjectAndContent(t *testing.T) {
	b := newTestBuilder(t)
	msg, err := b.Build(noticeFor(KindConfirm, "ja"))
	if err != nil {
		t.Fatal(err)
	}
	text, html := checkWellFormed(t, msg)
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "[sendguard] 送信前の確認のお願い: お見積り(4月分)"; subj != want {
		t.Errorf("subject %q, want %q", subj, want)
	}
	for _, want := range []string{"yamada@partner.co.jp", "[社外] exarnple.com", "example.com に似ています",
		"https://sendguard.example.com/h/TOKEN", "マイナンバー 2件 (1234********)", "2026年4月2日(木) 18:00 JST"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `href="https://sendguard.example.com/h/TOKEN"`) {
		t.Error("html lacks the link")
	}
	// External domains come first, the internal one last.
	if strings.Index(text, "[社内] example.com") < strings.Index(text, "[社外] partner.co.jp") {
		t.Error("internal domain listed before external ones")
	}
}

func TestHostileContent(t *testing.T) {
	b := newTestBuilder(t)
	for _, kind := range kinds {
		n := noticeFor(kind, "en", func(rec *hold.Record, rep *rules.Report) {
			rec.Subject = "hi\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script>"
			rep.Recipients.List[0].Name = "Eve\r\nX-Injected: 1 <b>bold</b>"
			rep.Attachments[0].Name = "<img src=x onerror=alert(2)>.csv\r\nX-Evil: 1"
			rep.Findings[0].Location = "attachment:" + rep.Attachments[0].Name
		})
		n.Reason = "no\r\nX-Reason-Injected: 1 <script>"
		n.To = []string{"\"Taro\r\nX-To-Injected: 1\" <taro@example.com>"}
		if _, err := b.Build(n); err == nil {
			t.Fatalf("%s: address with CRLF accepted", kind)
		}
		n.To = []string{"\"Taro <script>\" <taro@example.com>"}
		msg, err := b.Build(n)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		text, html := checkWellFormed(t, msg)
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"Bcc", "X-Injected", "X-Evil", "X-Reason-Injected", "X-To-Injected"} {
			if _, ok := m.Header[h]; ok {
				t.Errorf("%s: header %s injected", kind, h)
			}
		}
		for _, bad := range []string{"<script", "<img", "<b>"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s: html contains unescaped %q", kind, bad)
			}
		}
		if !strings.Contains(html, "&lt;script&gt;") {
			t.Errorf("%s: escaped subject missing from html", kind)
		}
		if strings.Contains(text, "\nBcc: victim") || strings.Contains(text, "\nX-") {
			t.Errorf("%s: a line break of untrusted text survived in the text part", kind)
		}
	}
}

func TestInvalidNotices(t *testing.T) {
	b := newTestBuilder(t)
	for name, mutate := range map[string]func(*Notice){
		"kind":       func(n *Notice) { n.Kind = "nope" },
		"lang":       func(n *Notice) { n.Lang = "fr" },
		"no message": func(n *Notice) { n.Message = templates.Summary{} },
		"no to":      func(n *Notice) { n.To = nil },
		"no link":    func(n *Notice) { n.Link = "" },
		"bad to":     func(n *Notice) { n.To = []string{"not an address"} },
		"to no dom":  func(n *Notice) { n.To = []string{"<postmaster>"} },
	} {
		n := noticeFor(KindConfirm, "en")
		mutate(&n)
		if _, err := b.Build(n); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewBuilder(Options{From: "x\r\nBcc: y@z"}); err == nil {
		t.Error("From with CRLF accepted")
	}
}

func TestMessageIDsDiffer(t *testing.T) {
	b, err := NewBuilder(Options{From: "sendguard@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for range 3 {
		msg, err := b.Build(noticeFor(KindReleased, "en"))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := mail.ReadMessage(bytes.NewReader(msg))
		ids[m.Header.Get("Message-ID")] = true
	}
	if len(ids) != 3 {
		t.Errorf("Message-IDs repeat: %v", ids)
	}
}
