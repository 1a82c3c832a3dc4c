package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

func mustParse(t testing.TB, y string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const continuePolicy = `rules:
  - name: audit-bcc
    when: size(recipients.first_time_domains) > 0
    continue: true
    actions: [bcc]
    reason: {en: first time, ja: 初めて}
  - name: hr-approval
    when: sender.endsWith("@hr.example.com") && recipients.external > 0
    continue: true
    actions: [hold_approver]
    params: {approvers: [boss@example.com, hr-lead@example.com], approvals_required: 2}
    reason: {en: hr}
  - name: big-delay
    when: attachments.exists(a, a.size > 10485760)
    continue: true
    actions: [delay, link]
    params: {delay_minutes: 15}
    reason: {en: big}
  - name: block-exe
    when: attachments.exists(a, a.executable)
    actions: [reject]
    reason: {en: "Executable attachments are not allowed"}
  - name: pii
    when: finding("mynumber") > 0
    actions: [hold_review]
    reason: {en: pii}
  - name: attach
    when: has_attachment(".pdf")
    actions: [encrypt, hold_approver]
    params: {encrypt_password: recipient, approvers: [ciso@example.com, boss@example.com]}
    reason: {en: attach}
  - name: fallback
    when: "true"
    actions: [deliver]
`

func TestContinueSemantics(t *testing.T) {
	p := mustParse(t, continuePolicy)
	first := func(r *rules.Report) { r.Recipients.FirstTimeDomains = []string{"new.example.net"} }
	hr := func(r *rules.Report) { r.Sender = "Payroll@HR.example.com"; r.Recipients.External = 1 }
	big := attachmentSized("video.mp4", 20<<20)
	pii := finding("mynumber", 1, 0, "body")
	exe := func(r *rules.Report) {
		r.Attachments = append(r.Attachments, rules.Attachment{Name: "setup.exe", Executable: true})
	}
	approvers := []string{"ciso@example.com", "boss@example.com"}
	tests := []struct {
		name    string
		report  *rules.Report
		actions []string
		rules   []string
		params  Params
	}{
		{"nothing", synth(), []string{"deliver"}, []string{"fallback"}, Params{}},
		{"continue then fallback drops deliver", synth(first), []string{"bcc"}, []string{"audit-bcc", "fallback"}, Params{}},
		{"continue then terminal", synth(first, pii), []string{"hold_review", "bcc"}, []string{"audit-bcc", "pii"}, Params{}},
		{"terminal stops later rules", synth(pii, attachment("a.pdf")), []string{"hold_review"}, []string{"pii"}, Params{}},
		{"strongest hold wins", synth(hr, big, pii), []string{"hold_review", "link"}, []string{"hr-approval", "big-delay", "pii"}, Params{}},
		{"approver beats delay, approvers merged", synth(hr, big, attachment("a.pdf")), []string{"hold_approver", "link"}, []string{"hr-approval", "big-delay", "attach"},
			Params{Approvers: []string{"boss@example.com", "hr-lead@example.com", "ciso@example.com"}, ApprovalsRequired: 2}},
		{"delay keeps its minutes", synth(big), []string{"delay", "link"}, []string{"big-delay", "fallback"}, Params{DelayMinutes: 15}},
		{"first transform wins", synth(big, attachment("b.pdf")), []string{"hold_approver", "link"}, []string{"big-delay", "attach"}, Params{Approvers: approvers}},
		{"encrypt keeps its password", synth(attachment("b.PDF")), []string{"hold_approver", "encrypt"}, []string{"attach"}, Params{EncryptPassword: "recipient", Approvers: approvers}},
		{"reject overrides", synth(first, hr, exe), []string{"reject"}, []string{"audit-bcc", "hr-approval", "block-exe"}, Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(tt.report)
			if !reflect.DeepEqual(d.Actions, tt.actions) || !reflect.DeepEqual(d.Rules, tt.rules) {
				t.Fatalf("decision %v by %v; want %v by %v", d.Actions, d.Rules, tt.actions, tt.rules)
			}
			if !reflect.DeepEqual(d.Params, tt.params) {
				t.Errorf("params = %+v, want %+v", d.Params, tt.params)
			}
			var reasonRules []string
			for _, r := range d.Reasons {
				reasonRules = append(reasonRules, r.Rule)
			}
			if want := withoutFallback(d.Rules); !reflect.DeepEqual(reasonRules, want) {
				t.Errorf("reasons from %v, want %v", reasonRules, want)
			}
		})
	}
}

func withoutFallback(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "fallback" {
			out = append(out, n)
		}
	}
	return out
}

func attachmentSized(name string, size int64) reportOpt {
	return func(r *rules.Report) {
		r.Attachments = append(r.Attachments, rules.Attachment{Name: name, Location: "attachment:" + name, Size: size})
	}
}

func TestDelayParams(t *testing.T) {
	p := mustParse(t, `rules:
  - name: slow
    when: size(attachments) > 0
    actions: [delay, bcc]
    params: {delay_minutes: 30}
    reason: {en: wait, ja: 待機}
`)
	d := p.Evaluate(synth(attachment("a.pdf")))
	if !reflect.DeepEqual(d.Actions, []string{"delay", "bcc"}) || d.Params.DelayMinutes != 30 {
		t.Fatalf("decision = %+v", d)
	}
	if got := d.Reasons[0].Text("ja"); got != "待機" {
		t.Errorf("Text(ja) = %q", got)
	}
	if got := d.Reasons[0].Text("en"); got != "wait" {
		t.Errorf("Text(en) = %q", got)
	}
	if got := (Reason{JA: "だけ"}).Text("en"); got != "だけ" {
		t.Errorf("Text(en) without en = %q", got)
	}
	if d := p.Evaluate(synth()); !reflect.DeepEqual(d.Actions, []string{"deliver"}) || len(d.Rules) != 0 {
		t.Fatalf("no match: %+v", d)
	}
}

func TestRuntimeErrorHolds(t *testing.T) {
	p := mustParse(t, `rules:
  - name: first-attachment-big
    when: attachments[0].size > 100
    actions: [hold_review]
    reason: {en: big}
`)
	d := p.Evaluate(synth())
	if !reflect.DeepEqual(d.Actions, []string{"hold_review"}) || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "first-attachment-big") {
		t.Fatalf("decision = %+v, want a hold and one error", d)
	}
	d = p.Evaluate(synth(attachmentSized("a", 50)))
	if !reflect.DeepEqual(d.Actions, []string{"deliver"}) || len(d.Errors) != 0 {
		t.Fatalf("decision = %+v, want deliver", d)
	}
}

func TestEvaluateNilReport(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Evaluate(nil); !reflect.DeepEqual(d.Actions, []string{"deliver"}) {
		t.Fatalf("nil report: %+v", d)
	}
}

func TestHelpers(t *testing.T) {
	r := synth(
		func(r *rules.Report) {
			r.Findings = []rules.Finding{
				{Detector: "credit_card", Count: 2, Location: "body", Values: []string{"4111111111111111", "5555555555554444"}},
				{Detector: "credit_card", Count: 2, Location: "attachment:a.xlsx", Values: []string{"4111111111111111", "378282246310005"}, Records: 40},
				{Detector: "jp_phone", Count: 30, Location: "attachment:a.xlsx", Records: 30},
				{Detector: "jp_phone", Count: 7, Location: "attachment:b.zip/c.csv", Records: 7},
				{Detector: "mynumber", Count: 1, Location: "body"},
				{Detector: "mynumber", Count: 2, Location: "attachment:b.zip/c.csv"},
				{Detector: rules.DetectorUnscannable, Count: 1, Location: "attachment:secret.zip", Reason: "encrypted zip"},
			}
			r.Attachments = []rules.Attachment{
				{Name: "a.xlsx", Location: "attachment:a.xlsx", Size: 10},
				{Name: "b.zip", Location: "attachment:b.zip", Archive: true},
				{Name: "c.csv", Location: "attachment:b.zip/c.csv", Depth: 1},
				{Name: "secret.zip", Location: "attachment:secret.zip", Encrypted: true, Unscannable: "encrypted zip"},
				{Name: "legacy.DOC", Location: "attachment:legacy.DOC", Unscannable: "unsupported format"},
			}
			r.Subject = "見積書"
			r.Size = 12345
			r.Errors = []string{"To: invalid address"}
		},
	)
	tests := []struct {
		expr string
		want bool
	}{
		{`finding("credit_card") == 3`, true},
		{`finding("credit_card", "attachment:") == 2`, true},
		{`finding("jp_phone") == 37`, true},
		{`finding("mynumber") == 3`, true},
		{`finding("mynumber", "body") == 1`, true},
		{`finding("passport") == 0`, true},
		{`records() == 47`, true},
		{`max_records() == 40`, true},
		{`has_attachment()`, true},
		{`has_attachment(".xlsx") && has_attachment(".doc") && !has_attachment(".pdf")`, true},
		{`unscannable() == 2`, true},
		{`attachments.exists(a, a.encrypted)`, true},
		{`attachments.exists(a, a.size > 10485760)`, false},
		{`attachments.filter(a, a.depth > 0).size() == 1`, true},
		{`findings.exists(f, f.detector == "unscannable" && f.reason == "encrypted zip")`, true},
		{`subject.contains("見積") && size == 12345 && size(errors) == 1`, true},
		{`sender.endsWith("@example.com") && from == "alice@example.com"`, true},
		{`sender.lowerAscii() == sender`, true},
		{`sets.intersects(recipients.external_domains, ["x.example"])`, false},
	}
	for _, tt := range tests {
		p := mustParse(t, "rules:\n  - name: r\n    when: '"+strings.ReplaceAll(tt.expr, "'", "''")+"'\n    actions: [hold_sender]\n    reason: {en: x}\n")
		d := p.Evaluate(r)
		if got := d.Has(rules.ActionHoldSender); got != tt.want || len(d.Errors) > 0 {
			t.Errorf("%s = %v (errors %v), want %v", tt.expr, got, d.Errors, tt.want)
		}
	}
	empty := synth()
	for _, expr := range []string{`finding("mynumber") == 0`, `records() == 0`, `max_records() == 0`, `!has_attachment()`, `unscannable() == 0`} {
		p := mustParse(t, "rules:\n  - name: r\n    when: '"+expr+"'\n    actions: [hold_sender]\n    reason: {en: x}\n")
		if d := p.Evaluate(empty); !d.Has(rules.ActionHoldSender) {
			t.Errorf("empty report: %s is false", expr)
		}
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	p := mustParse(t, continuePolicy)
	r := synth(finding("mynumber", 1, 0, "body"))
	done := make(chan Decision, 8)
	for range 8 {
		go func() {
			var d Decision
			for range 200 {
				d = p.Evaluate(r)
			}
			done <- d
		}()
	}
	for range 8 {
		if d := <-done; !reflect.DeepEqual(d.Actions, []string{"hold_review"}) {
			t.Errorf("concurrent decision = %v", d.Actions)
		}
	}
}

func TestYAMLForms(t *testing.T) {
	p := mustParse(t, `version: 1
rules:
  - &hold
    name: unquoted-true
    when: true
    continue: true
    actions: bcc
    reason: {en: x}
  - {name: flow, when: 'size(attachments) > 0', actions: [encrypt], reason: {ja: 暗号化}}
`)
	d := p.Evaluate(synth(attachment("a.pdf")))
	if !reflect.DeepEqual(d.Actions, []string{"bcc", "encrypt"}) || !reflect.DeepEqual(d.Rules, []string{"unquoted-true", "flow"}) {
		t.Fatalf("decision = %+v", d)
	}
	if _, err := Parse("p.yaml", []byte("rules:\n  - &a {name: a, when: 'true', actions: [bcc], continue: true, reason: {en: x}}\n  - *a\n")); err == nil || !strings.Contains(err.Error(), "p.yaml:3: rule \"a\": duplicate rule name") {
		t.Fatalf("alias rule: err = %v, want a duplicate-name problem on line 3", err)
	}
	if p := mustParse(t, "rules: []\n"); !reflect.DeepEqual(p.Evaluate(synth()).Actions, []string{"deliver"}) {
		t.Fatal("an empty policy must deliver")
	}
}

// A reason may be one plain string for both languages; each reason names
// its rule, so a page can pair them.
func TestPlainStringReason(t *testing.T) {
	p := mustParse(t, `rules:
  - name: hr-to-outside
    when: 'size(attachments) > 0'
    actions: [hold_sender]
    reason: 人事ファイルは社外に送れません
  - name: two
    when: 'true'
    continue: true
    actions: [bcc]
    reason: {ja: 二, en: two}
`)
	d := p.Evaluate(synth(attachment("a.pdf")))
	want := []Reason{{Rule: "hr-to-outside", JA: "人事ファイルは社外に送れません", EN: "人事ファイルは社外に送れません"}}
	if !reflect.DeepEqual(d.Reasons, want) {
		t.Fatalf("reasons = %+v, want %+v", d.Reasons, want)
	}
	if got := d.Reasons[0].Text("en"); got != want[0].EN {
		t.Fatalf("Text(en) = %q", got)
	}
	if _, err := Parse("p.yaml", []byte("rules:\n  - {name: r, when: 'true', actions: [reject], reason: 日本語だけ}\n")); err == nil || !strings.Contains(err.Error(), "reason.en must be printable ASCII") {
		t.Fatalf("a Japanese-only reject reason: err = %v", err)
	}
}
