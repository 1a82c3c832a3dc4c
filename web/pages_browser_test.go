package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

var reasonMass = hold.Reason{Rule: "mass-exposure",
	JA: "多数の社外アドレスが To/Cc に表示されています。",
	EN: "Many external addresses are visible in To/Cc."}

// customersReport shows twelve customers, one per domain, in the order
// customer1, customer10, customer11, customer12, customer2, ... as a
// plain string sort would.
func customersReport() *rules.Report {
	rep := &rules.Report{Subject: "ニュースレター"}
	for i := 1; i <= 12; i++ {
		d := fmt.Sprintf("customer%d.example", i)
		rep.Recipients.List = append(rep.Recipients.List, rules.Recipient{Address: fmt.Sprintf("c%d@%s", i, d), Field: "to", Domain: d, External: true, Envelope: true})
		rep.Recipients.VisibleExternalDomains = append(rep.Recipients.VisibleExternalDomains, d)
	}
	rep.Recipients.VisibleExternal, rep.Recipients.External, rep.Recipients.Total = 12, 12, 12
	return rep
}

func (e *env) holdWith(id string, kind hold.Kind, rep *rules.Report, approvers []string, reasons ...hold.Reason) string {
	e.t.Helper()
	raw, _ := json.Marshal(rep)
	rec := &hold.Record{ID: id, Kind: kind, Sender: "taro@example.com", Subject: rep.Subject,
		Deadline: time.Date(2026, 4, 6, 14, 15, 0, 0, time.UTC), Report: raw, Approvers: approvers,
		Decision: hold.Decision{Actions: []string{"hold_sender"}, Rules: []string{"mass-exposure"}, Localized: reasons}}
	if err := e.store.Create(context.Background(), rec, hold.System, "policy"); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// The Bcc conversion needs no domain ticks; a plain send still needs them.
func TestBccNeedsNoDomainTicks(t *testing.T) {
	e := newEnv(t, nil)
	id := e.holdWith("m1", hold.KindSender, customersReport(), nil, reasonMass)
	tok := e.token(id, hold.RoleSender, time.Hour)
	csrf, acks := e.form(e.url(tok))
	if len(acks) != 12 {
		t.Fatalf("acks %v", acks)
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send", nil)); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("send without ticks: %d", r.status)
	}
	if r := e.post(e.url(tok), confirmForm(csrf, "send_bcc", nil)); r.status != http.StatusOK {
		t.Fatalf("send_bcc without ticks: %d\n%s", r.status, r.body)
	}
	if rec := e.record(id); rec.State != hold.StateReleased || rec.Mode != hold.ModeBcc {
		t.Fatalf("record %s/%s", rec.State, rec.Mode)
	}
}

// TestBrowserSenderPages looks at the sender's pages in Chromium, in both
// languages, at desktop and phone sizes: the reason in the page's
// language, times with their zone, domains in natural order, "check all"
// and the Bcc button, the approver named on an approver hold.
func TestBrowserSenderPages(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) {
		c.Location = tokyo
		c.Preview = func(string) string {
			return templates.MaskPreview("いつもお世話になっております。\n電話 03-1234-5678 まで", 280)
		}
	})
	mass := e.url(e.token(e.holdWith("mass", hold.KindSender, customersReport(), nil, reasonMass), hold.RoleSender, time.Hour))
	reasonBoss := hold.Reason{Rule: "hr-to-outside", JA: "人事ファイルは上長の承認が必要です。", EN: "HR files need your manager's approval."}
	appr := e.url(e.token(e.holdWith("appr", hold.KindApprover, sampleReport(), []string{"boss@example.com"}, reasonBoss), hold.RoleSender, time.Hour))
	order := []string{"customer1.example", "customer2.example", "customer9.example", "customer10.example", "customer12.example"}
	browsertest.CheckPages(t, "sender-pages", []browsertest.Page{
		{Name: "confirm-mass-en", URL: mass + "?lang=en", Lang: "en",
			Expect: []string{reasonMass.EN, "JST", "Check all 12 external domains", "The start of the message", "電話 **-****-****"},
			Absent: []string{reasonMass.JA, "mass-exposure", "1234"},
			Order:  order, Enabled: []string{"button[value=send_bcc]"}, Disabled: []string{"button[value=send]"}},
		{Name: "confirm-mass-ja", URL: mass + "?lang=ja", Lang: "ja",
			Expect: []string{reasonMass.JA, "JST", "2026年4月6日(月) 23:15 JST"}, Absent: []string{reasonMass.EN},
			Order: order, Enabled: []string{"button[value=send_bcc]"}, Disabled: []string{"button[value=send]"}},
		{Name: "confirm-mass-checkall", URL: mass + "?lang=en", Lang: "en",
			Click: []string{"#check-all-domains"}, Checked: []string{"input[name=ack]"}, Enabled: []string{"button[value=send]"},
			Expect: []string{"Everything is ticked"}},
		{Name: "withdraw-approver-en", URL: appr + "?lang=en", Lang: "en",
			Expect: []string{"waits for approval by boss@example.com", reasonBoss.EN, "JST"}, Absent: []string{reasonBoss.JA, "hr-to-outside"}},
		{Name: "withdraw-approver-ja", URL: appr + "?lang=ja", Lang: "ja",
			Expect: []string{"承認者(boss@example.com)の承認を待っています", reasonBoss.JA}, Absent: []string{reasonBoss.EN, "hr-to-outside"}},
	})
}

// Without a choice or a browser preference, pages are in the configured
// default language, Japanese unless configured otherwise.
func TestPagesDefaultToJapanese(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DefaultLang = "" })
	tok := e.token(e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike"), hold.RoleSender, time.Hour)
	if r := e.get(e.url(tok)); !strings.Contains(r.body, `lang="ja"`) {
		t.Fatal("page not in Japanese by default")
	}
	if r := e.get(e.url(tok), "Accept-Language", "en-GB,en;q=0.8"); !strings.Contains(r.body, `lang="en"`) {
		t.Fatal("Accept-Language ignored")
	}
}
