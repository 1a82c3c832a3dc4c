package reports

import (
	"path"
	"strings"
	"time"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// Report is the stored form of one message's analysis and decision.
type Report struct {
	QueueID string
	Time    time.Time
	Sender  string // envelope MAIL FROM
	From    string // header From, lower-cased; empty when equal to Sender
	Size    int64
	// Directory is what the company directory said of the sender, as the
	// policy saw it (sender.department, .groups, .manager, .directory);
	// nil when no directory was configured.
	Directory *rules.SenderDirectory
	// Behaviour is the sender's baseline as the policy saw it; nil
	// without baselines. Stored rounded (see codec.go).
	Behaviour *rules.SenderBehaviour
	// People, PeopleApproximate and DataItems are the people affected and
	// the kinds of personal data (rules.Report's), for people() and
	// data_items in a replay.
	People            int
	PeopleApproximate bool
	DataItems         []string

	Recipients Recipients
	Findings   []Finding
	// Attachments keep facts, not names: Ext is the lower-cased extension.
	Attachments []Attachment
	Errors      int // how many reading problems the analysis met

	// The decision taken live.
	Actions []string
	Rules   []string
	Shadow  []policy.Shadow
}

// Recipients keeps the counts and the domains; each recipient is its
// domain and flags (no local part).
type Recipients struct {
	Total, External, VisibleExternal int
	ExternalDomains                  []string
	VisibleExternalDomains           []string
	FirstTimeDomains                 []string
	Lookalike                        []Lookalike // domains only
	List                             []Recipient
}

// Recipient is one recipient without its local part.
type Recipient struct {
	Domain   string
	Field    string // to, cc, bcc
	External bool
	Envelope bool
}

// Lookalike is a look-alike domain and what it resembles.
type Lookalike struct {
	Domain, Resembles, Reason string
}

// Location kinds of a finding; Attachment says which attachment.
const (
	LocBody = iota
	LocSubject
	LocFilename
	LocAttachment
	LocOther
)

// Finding is one detector's result in one location, without values.
type Finding struct {
	Detector   string
	Loc        int // Loc* constant
	Attachment int // index into Report.Attachments for LocFilename/LocAttachment, or -1
	Count      int
	Records    int
	Dictionary string
	Level      string
	Reason     string // unscannable reason (a fixed text, not content)
}

// Attachment is one attachment's facts.
type Attachment struct {
	Ext          string
	Type         string
	DeclaredType string
	Size         int64
	Depth        int
	Encrypted    bool
	Executable   bool
	Archive      bool
	Unscannable  string
}

// maxExt bounds a stored extension: a long "extension" is part of a name.
const maxExt = 10

// FromAnalysis builds the stored report of a message from its live
// analysis and decision.
func FromAnalysis(qid string, t time.Time, rep *rules.Report, d *policy.Decision) *Report {
	r := &Report{QueueID: qid, Time: t, Sender: rep.Sender, Size: rep.Size, Errors: len(rep.Errors), Directory: rep.SenderDirectory,
		Behaviour: rep.SenderBehaviour, People: rep.People, PeopleApproximate: rep.PeopleApproximate, DataItems: rep.DataItems}
	if !strings.EqualFold(rep.From, rep.Sender) {
		r.From = rep.From
	}
	rc := rep.Recipients
	r.Recipients = Recipients{
		Total: rc.Total, External: rc.External, VisibleExternal: rc.VisibleExternal,
		ExternalDomains: rc.ExternalDomains, VisibleExternalDomains: rc.VisibleExternalDomains,
		FirstTimeDomains: rc.FirstTimeDomains,
	}
	for _, l := range rc.Lookalike {
		r.Recipients.Lookalike = append(r.Recipients.Lookalike, Lookalike{Domain: domainOf(l.Address), Resembles: l.Resembles, Reason: l.Reason})
	}
	for _, x := range rc.List {
		r.Recipients.List = append(r.Recipients.List, Recipient{Domain: x.Domain, Field: x.Field, External: x.External, Envelope: x.Envelope})
	}
	where := map[string]int{} // attachment location → index
	for i, a := range rep.Attachments {
		where[a.Location] = i
		r.Attachments = append(r.Attachments, Attachment{
			Ext: extOf(a.Name), Type: a.Type, DeclaredType: a.DeclaredType, Size: a.Size, Depth: a.Depth,
			Encrypted: a.Encrypted, Executable: a.Executable, Archive: a.Archive, Unscannable: a.Unscannable,
		})
	}
	for _, f := range rep.Findings {
		sf := Finding{Detector: f.Detector, Count: f.Count, Records: f.Records, Dictionary: f.Dictionary, Level: f.Level, Reason: f.Reason, Attachment: -1}
		sf.Loc, sf.Attachment = locate(f.Location, where)
		r.Findings = append(r.Findings, sf)
	}
	if d != nil {
		r.Actions, r.Rules, r.Shadow = d.Actions, d.Rules, d.Shadow
	}
	return r
}

func locate(loc string, where map[string]int) (int, int) {
	kind, rest, _ := strings.Cut(loc, ":")
	switch kind {
	case "body":
		return LocBody, -1
	case "subject":
		return LocSubject, -1
	case "filename":
		if i, ok := where["attachment:"+rest]; ok {
			return LocFilename, i
		}
		return LocFilename, -1
	case "attachment":
		if i, ok := where[loc]; ok {
			return LocAttachment, i
		}
		return LocAttachment, -1
	}
	return LocOther, -1
}

func extOf(name string) string {
	e := strings.ToLower(path.Ext(name))
	if len(e) > maxExt {
		return ""
	}
	return e
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// ToRules turns the stored report back into the rules.Report a policy
// evaluates. Kept: counts, domains, detectors with locations' kinds,
// attachment facts, sender, header From, size, the sender's directory
// entry and behaviour baseline. Lost, and replaced by placeholders: the subject (empty), the
// header From when it equalled the sender, recipients' local parts
// ("rcpt-N@domain") and display names, attachment names
// ("attachment-N.ext"), error texts ("error"), detector values and
// masked samples.
func (r *Report) ToRules() *rules.Report {
	out := &rules.Report{Sender: r.Sender, From: r.From, Size: r.Size, SenderDirectory: r.Directory, SenderBehaviour: r.Behaviour,
		People: r.People, PeopleApproximate: r.PeopleApproximate, DataItems: r.DataItems}
	if out.From == "" {
		out.From = strings.ToLower(r.Sender)
	}
	rc := r.Recipients
	out.Recipients = rules.Recipients{
		Total: rc.Total, External: rc.External, VisibleExternal: rc.VisibleExternal,
		ExternalDomains: nonNil(rc.ExternalDomains), VisibleExternalDomains: nonNil(rc.VisibleExternalDomains),
		FirstTimeDomains: nonNil(rc.FirstTimeDomains), Lookalike: []rules.Lookalike{}, List: []rules.Recipient{},
	}
	for _, l := range rc.Lookalike {
		out.Recipients.Lookalike = append(out.Recipients.Lookalike, rules.Lookalike{Address: "lookalike@" + l.Domain, Resembles: l.Resembles, Reason: l.Reason})
	}
	for i, x := range rc.List {
		out.Recipients.List = append(out.Recipients.List, rules.Recipient{
			Address: "rcpt-" + itoa(i+1) + "@" + x.Domain, Field: x.Field, Domain: x.Domain, External: x.External, Envelope: x.Envelope,
		})
	}
	names := make([]string, len(r.Attachments))
	out.Attachments = make([]rules.Attachment, len(r.Attachments))
	for i, a := range r.Attachments {
		names[i] = "attachment-" + itoa(i+1) + a.Ext
		out.Attachments[i] = rules.Attachment{
			Name: names[i], Location: "attachment:" + names[i], Type: a.Type, DeclaredType: a.DeclaredType, Size: a.Size,
			Encrypted: a.Encrypted, Depth: a.Depth, Executable: a.Executable, Archive: a.Archive, Unscannable: a.Unscannable,
		}
	}
	out.Findings = make([]rules.Finding, len(r.Findings))
	for i, f := range r.Findings {
		loc := "other"
		switch f.Loc {
		case LocBody:
			loc = "body"
		case LocSubject:
			loc = "subject"
		case LocFilename, LocAttachment:
			name := "attachment"
			if f.Attachment >= 0 && f.Attachment < len(names) {
				name = names[f.Attachment]
			}
			loc = "attachment:" + name
			if f.Loc == LocFilename {
				loc = "filename:" + name
			}
		}
		out.Findings[i] = rules.Finding{Detector: f.Detector, Count: f.Count, Records: f.Records, Location: loc,
			Samples: []string{}, Dictionary: f.Dictionary, Level: f.Level, Reason: f.Reason}
	}
	out.Errors = make([]string, r.Errors)
	for i := range out.Errors {
		out.Errors[i] = "error"
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
