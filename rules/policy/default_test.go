package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

// report builds a synthetic report: external recipients, findings and
// attachments are set by the options.
type reportOpt func(*rules.Report)

func synth(opts ...reportOpt) *rules.Report {
	r := &rules.Report{
		Recipients: rules.Recipients{
			Total: 1, VisibleExternalDomains: []string{}, ExternalDomains: []string{},
			Lookalike: []rules.Lookalike{}, FirstTimeDomains: []string{},
		},
		Findings:    []rules.Finding{},
		Attachments: []rules.Attachment{},
		Errors:      []string{},
		Sender:      "alice@example.com",
		From:        "alice@example.com",
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// external adds n visible external recipients spread over d domains.
func external(n, d int) reportOpt {
	return func(r *rules.Report) {
		r.Recipients.Total += n
		r.Recipients.External += n
		r.Recipients.VisibleExternal += n
		for i := 0; i < d; i++ {
			dom := "client" + string(rune('a'+i)) + ".example.net"
			r.Recipients.VisibleExternalDomains = append(r.Recipients.VisibleExternalDomains, dom)
			r.Recipients.ExternalDomains = append(r.Recipients.ExternalDomains, dom)
		}
	}
}

// bccExternal adds n external recipients hidden in Bcc.
func bccExternal(n int) reportOpt {
	return func(r *rules.Report) {
		r.Recipients.Total += n
		r.Recipients.External += n
		r.Recipients.ExternalDomains = append(r.Recipients.ExternalDomains, "hidden.example.net")
	}
}

func finding(det string, count, records int, loc string) reportOpt {
	return func(r *rules.Report) {
		r.Findings = append(r.Findings, rules.Finding{Detector: det, Count: count, Records: records, Location: loc})
	}
}

func attachment(name string) reportOpt {
	return func(r *rules.Report) {
		r.Attachments = append(r.Attachments, rules.Attachment{Name: name, Location: "attachment:" + name, Size: 1000})
	}
}

// unreadable adds an attachment that could not be read, with its
// unscannable finding, as the extraction reports it.
func unreadable(name, reason string, encrypted bool) reportOpt {
	return func(r *rules.Report) {
		loc := "attachment:" + name
		r.Attachments = append(r.Attachments, rules.Attachment{Name: name, Location: loc, Size: 1000,
			Encrypted: encrypted, Unscannable: reason})
		r.Findings = append(r.Findings, rules.Finding{Detector: rules.DetectorUnscannable, Count: 1, Location: loc, Reason: reason})
	}
}

func lookalike(addr string) reportOpt {
	return func(r *rules.Report) {
		r.Recipients.Lookalike = append(r.Recipients.Lookalike, rules.Lookalike{Address: addr, Resembles: "example.com"})
	}
}

func TestDefaultPolicy(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.RuleNames(), []string{"late-night-external-bulk", "pii-external", "unscannable-external", "own-records-external", "addressee-mismatch", "confidential-external", "lookalike", "mass-exposure", "external-attachment", "default"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("rules = %q, want %q", got, want)
	}
	tests := []struct {
		name    string
		report  *rules.Report
		actions []string
		rule    string
	}{
		{"internal only", synth(), []string{"deliver"}, "default"},
		{"internal with mynumber", synth(finding("mynumber", 3, 0, "body"), attachment("a.xlsx")), []string{"deliver"}, "default"},
		{"external plain", synth(external(1, 1)), []string{"deliver"}, "default"},
		{"external mynumber", synth(external(1, 1), finding("mynumber", 1, 0, "body")), []string{"hold_review"}, "pii-external"},
		{"bcc external credit card", synth(bccExternal(1), finding("credit_card", 2, 0, "attachment:x.pdf")), []string{"hold_review"}, "pii-external"},
		{"external customer list", synth(external(1, 1), finding("jp_phone", 60, 50, "attachment:顧客.csv"), attachment("顧客.csv")), []string{"hold_review"}, "pii-external"},
		{"external 49 records", synth(external(1, 1), finding("jp_phone", 60, 49, "attachment:顧客.csv")), []string{"deliver"}, "default"},
		{"external phone only", synth(external(1, 1), finding("jp_phone", 3, 0, "body")), []string{"deliver"}, "default"},
		{"lookalike", synth(external(1, 1), lookalike("a@exarnple.com")), []string{"hold_sender"}, "lookalike"},
		{"lookalike beats attachment", synth(external(1, 1), lookalike("a@exarnple.com"), attachment("a.pdf")), []string{"hold_sender"}, "lookalike"},
		{"pii beats lookalike", synth(external(1, 1), lookalike("a@exarnple.com"), finding("mynumber", 1, 0, "body")), []string{"hold_review"}, "pii-external"},
		{"10 visible external", synth(external(10, 1)), []string{"hold_sender"}, "mass-exposure"},
		{"9 visible external", synth(external(9, 4)), []string{"deliver"}, "default"},
		{"5 visible domains", synth(external(5, 5)), []string{"hold_sender"}, "mass-exposure"},
		{"50 in bcc", synth(bccExternal(50)), []string{"deliver"}, "default"},
		{"external attachment", synth(external(1, 1), attachment("見積書.pdf")), []string{"encrypt"}, "external-attachment"},
		{"internal attachment", synth(attachment("見積書.pdf")), []string{"deliver"}, "default"},
		// Unreadable content to the outside waits for the security team
		// instead of leaving re-wrapped in a second zip (#13).
		{"external encrypted zip", synth(external(1, 1), unreadable("給与明細.zip", "encrypted zip", true)), []string{"hold_review"}, "unscannable-external"},
		{"external zip bomb", synth(external(1, 1), unreadable("a.zip", "zip bomb: ratio 1028:1 over 100:1", false)), []string{"hold_review"}, "unscannable-external"},
		{"external pdf over budget", synth(external(1, 1), unreadable("a.pdf", "PDF text extraction exceeded its CPU budget", false)), []string{"hold_review"}, "unscannable-external"},
		{"bcc external encrypted pdf", synth(bccExternal(1), unreadable("locked.pdf", "encrypted PDF", true)), []string{"hold_review"}, "unscannable-external"},
		{"encrypted flag alone", synth(external(1, 1), func(r *rules.Report) {
			r.Attachments = append(r.Attachments, rules.Attachment{Name: "x.7z", Location: "attachment:x.7z", Encrypted: true})
		}), []string{"hold_review"}, "unscannable-external"},
		{"external analysis stopped", synth(external(1, 1), finding(rules.DetectorUnscannable, 1, 0, "message")), []string{"hold_review"}, "unscannable-external"},
		{"unreadable beats lookalike", synth(external(1, 1), lookalike("a@exarnple.com"), unreadable("s.zip", "encrypted zip", true)), []string{"hold_review"}, "unscannable-external"},
		{"pii beats unreadable", synth(external(1, 1), finding("mynumber", 1, 0, "body"), unreadable("s.zip", "encrypted zip", true)), []string{"hold_review"}, "pii-external"},
		{"internal encrypted zip", synth(unreadable("給与明細.zip", "encrypted zip", true)), []string{"deliver"}, "default"},
		{"external readable and image", synth(external(1, 1), attachment("見積書.pdf"), attachment("logo.png")), []string{"encrypt"}, "external-attachment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(tt.report)
			if !reflect.DeepEqual(d.Actions, tt.actions) || !reflect.DeepEqual(d.Rules, []string{tt.rule}) || len(d.Errors) != 0 {
				t.Fatalf("decision = %+v; want actions %q by rule %q", d, tt.actions, tt.rule)
			}
			if tt.rule != "default" && (len(d.Reasons) != 1 || d.Reasons[0].JA == "" || d.Reasons[0].EN == "" || d.Reasons[0].Rule != tt.rule) {
				t.Errorf("reasons = %+v, want one bilingual reason", d.Reasons)
			}
			if d.Has(rules.ActionEncrypt) && d.Params.EncryptPassword != rules.PasswordSender {
				t.Errorf("encrypt password goes to %q, want sender", d.Params.EncryptPassword)
			}
		})
	}
}

func TestDefaultYAMLIsACopy(t *testing.T) {
	b := DefaultYAML()
	b[0] = 'X'
	if !strings.HasPrefix(string(DefaultYAML()), "#") {
		t.Fatal("DefaultYAML exposes the embedded bytes")
	}
}
