package sent

import (
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

// Field is one field of the PPC report draft. ToFill marks what the
// security team must still write (or check) before reporting.
type Field struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Value  string `json:"value"`
	ToFill bool   `json:"to_fill,omitempty"`
}

// Draft is a pre-filled preliminary breach report (漏えい等報告 速報).
type Draft struct {
	MessageID  string    `json:"message_id"`
	Lang       string    `json:"lang"`
	Title      string    `json:"title"`
	Note       string    `json:"note"`
	Reportable bool      `json:"reportable"`
	Why        string    `json:"reportable_reason"`
	People     int       `json:"people"`
	Fields     []Field   `json:"fields"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewDraft fills the draft from the record and the incident (nil: no
// step taken yet) in lang, times in loc.
func NewDraft(c *templates.Catalog, lang string, rec *Record, in *Incident, now time.Time, loc *time.Location, internal func(domain string) bool) *Draft {
	t := func(k string, a ...any) string { return c.T(lang, k, a...) }
	when := func(x time.Time) string { return c.FormatTime(lang, x, loc) }
	d := &Draft{MessageID: rec.ID, Lang: lang, Title: t("ppc.title"), Note: t("ppc.note"), People: rec.People, CreatedAt: now.UTC()}
	d.Reportable = templates.PPCReportable(rec.People, slices.Contains(rec.DataItems, rules.DataItemMyNumber))
	switch {
	case rec.People >= templates.PPCThreshold:
		d.Why = t("ppc.reportable", t("ppc.reportable.people"))
	case d.Reportable:
		d.Why = t("ppc.reportable", t("ppc.reportable.mynumber"))
	default:
		d.Why = t("ppc.reportable.none")
	}
	discovered := now
	if in != nil {
		discovered = in.OpenedAt
	}
	var ext []string
	nExt := 0
	for _, a := range rec.Delivered() {
		dom := a[strings.LastIndexByte(a, '@')+1:]
		if internal != nil && internal(dom) {
			continue
		}
		nExt++
		if !slices.Contains(ext, dom) {
			ext = append(ext, dom)
		}
	}
	people := t("ppc.v.people", templates.GroupDigits(rec.People))
	if rec.PeopleApproximate {
		people = t("ppc.v.people_about", templates.GroupDigits(templates.RoundPeople(rec.People)))
	}
	items := c.DataItems(lang, rec.DataItems)
	response := t("ppc.v.response_none")
	if in != nil {
		var first time.Time
		n := 0
		for _, r := range in.Requests {
			if !r.SentAt.IsZero() {
				n++
				if first.IsZero() || r.SentAt.Before(first) {
					first = r.SentAt
				}
			}
		}
		if n > 0 {
			response = t("ppc.v.response", n, when(first), in.Confirmed())
		}
	}
	if in != nil && in.LinksRevoked > 0 {
		response += " " + t("ppc.v.links", in.LinksRevoked)
	}
	response += " " + t("ppc.v.notify_people")
	add := func(key, value string, toFill bool) {
		d.Fields = append(d.Fields, Field{Key: key, Label: t("ppc.f." + key), Value: value, ToFill: toFill})
	}
	add("discovered_at", when(discovered), false)
	add("occurred_at", when(rec.DeliveredAt), false)
	add("summary", t("ppc.v.summary", when(rec.DeliveredAt), rec.MailFrom, templates.OneLine(rec.Subject),
		len(rec.Attachments), strings.Join(ext, ", "), nExt), false)
	add("items", items, items == "")
	add("people", people, rec.People == 0)
	add("cause", t("ppc.v.cause"), false)
	add("secondary", t("ppc.v.secondary"), true)
	add("response", response, true)
	add("prevention", t("ppc.v.prevention"), true)
	add("reporter", t("ppc.v.reporter"), true)
	return d
}

// Evidence is the evidence bundle of one message: what sendguard
// recorded, its incident state, and its audit events with their place in
// the hash chain. Each event's hash is recomputed here (EventsOK); the
// whole chain was verified up to ChainVerified events at export.
type Evidence struct {
	ExportedAt    time.Time    `json:"exported_at"`
	ExportedBy    string       `json:"exported_by"`
	Record        *Record      `json:"record"`
	Incident      *Incident    `json:"incident,omitempty"`
	Events        []hold.Event `json:"events"`
	EventsOK      bool         `json:"events_ok"`
	ChainVerified uint64       `json:"chain_verified"`
	ChainError    string       `json:"chain_error,omitempty"`
	HeadSeq       uint64       `json:"head_seq"`
	HeadHash      hold.Hash    `json:"head_hash"`
	// Findings, people and data items are in Record; attachment hashes
	// in Record.Attachments.
	ReportNote string `json:"report_note"`
}

// EventsIntact recomputes each event's hash from its canonical form.
func EventsIntact(evs []hold.Event) bool {
	for i := range evs {
		if hold.Hash(sha256.Sum256(evs[i].Canonical())) != evs[i].Hash {
			return false
		}
	}
	return true
}
