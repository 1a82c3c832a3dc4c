package policy

import (
	"reflect"
	"testing"

	"github.com/sendguard/sendguard/rules"
)

func TestExamplePolicy(t *testing.T) {
	p, err := Load("../../testdata/policy/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	newDomains := func(r *rules.Report) {
		r.Recipients.FirstTimeDomains = []string{"clienta.example.net"}
	}
	hr := func(r *rules.Report) { r.Sender = "payroll@hr.example.com" }
	tests := []struct {
		name    string
		report  *rules.Report
		actions []string
		rules   []string
		params  Params
	}{
		{"internal", synth(), []string{"deliver"}, []string{"default"}, Params{}},
		{"first-time bcc and encrypt", synth(external(2, 1), newDomains, attachment("a.pdf")), []string{"delay", "bcc", "encrypt"},
			[]string{"first-time-bcc", "external-attachment"}, Params{DelayMinutes: 5, EncryptPassword: "recipient"}},
		{"single new recipient is not bcc'd", synth(external(1, 1), newDomains), []string{"deliver"}, []string{"default"}, Params{}},
		{"executable rejected", synth(external(2, 1), newDomains, attachment("x.exe"), func(r *rules.Report) { r.Attachments[0].Executable = true }),
			[]string{"reject"}, []string{"first-time-bcc", "executable"}, Params{}},
		{"hr approval", synth(external(1, 1), hr, finding("mynumber", 1, 0, "body")), []string{"hold_approver"}, []string{"hr-to-outside"},
			Params{Approvers: []string{"hr-manager@example.com"}}},
		{"confidential", synth(external(1, 1), finding("keyword", 1, 0, "body")), []string{"hold_sender"}, []string{"confidential"}, Params{}},
		{"unscannable", synth(external(1, 1), attachment("s.zip"), func(r *rules.Report) { r.Attachments[0].Unscannable = "encrypted zip" }),
			[]string{"hold_sender"}, []string{"unscannable-external"}, Params{}},
		{"big", synth(external(1, 1), attachmentSized("v.mp4", 11<<20)), []string{"link"}, []string{"big-attachment"}, Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(tt.report)
			if !reflect.DeepEqual(d.Actions, tt.actions) || !reflect.DeepEqual(d.Rules, tt.rules) || !reflect.DeepEqual(d.Params, tt.params) {
				t.Fatalf("decision %v by %v with %+v; want %v by %v with %+v", d.Actions, d.Rules, d.Params, tt.actions, tt.rules, tt.params)
			}
		})
	}
}
