package notify

import (
	"github.com/sendguard/sendguard/templates"
)

// data is what one language's rendering of a notice sees.
type data struct {
	Lang     string
	Kind     Kind
	S        templates.Summary
	Link     string
	Reason   string
	Deadline string
	Detailed bool
	// Approvers name who must act on an approver hold ("a@x, b@x").
	Approvers string
	// StandsInFor names the absent approver a deputy is asked for.
	StandsInFor string
	cat         *templates.Catalog
}

// Intro is the notice's first sentence; the sender of an approver hold
// learns whose approval it waits for.
func (d *data) Intro() string {
	intro := d.T("mail." + string(d.Kind) + ".intro")
	if d.Kind == kindApproverNotice {
		intro = d.T("mail.approver_notice.intro", d.Approvers)
	}
	if d.StandsInFor != "" && d.Kind == KindApprove {
		intro += " " + d.T("mail.approve.stand_in", d.StandsInFor)
	}
	if d.S.Required > 1 && (d.Kind == KindApprove || d.Kind == kindApproverNotice) {
		// N of M: each approver, and the sender, learn how many must agree.
		intro += " " + d.T("mail.approvals_needed", d.S.Required)
	}
	return intro
}

// T translates key.
func (d *data) T(key string, args ...any) string { return d.cat.T(d.Lang, key, args...) }

// Why is the "why held" list in the reader's language.
func (d *data) Why() []string { return d.cat.Why(d.Lang, d.S) }

// Unscannable says in plain words why a part could not be checked.
func (d *data) Unscannable(reason string) string { return d.cat.Unscannable(d.Lang, reason) }

// Field names a recipient field (to, cc, bcc).
func (d *data) Field(f string) string { return d.cat.Field(d.Lang, f) }

// Finding describes a finding with its masked samples.
func (d *data) Finding(f templates.FindingView) string { return d.cat.Finding(d.Lang, f) }

// People is the "personal data of N people" line, empty when none.
func (d *data) People() string { return d.cat.People(d.Lang, d.S.People, d.S.MyNumber) }

// DataItems names the kinds of personal data in the reader's language.
func (d *data) DataItems() string { return d.cat.DataItems(d.Lang, d.S.DataItems) }
