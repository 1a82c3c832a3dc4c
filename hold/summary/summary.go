// Package summary turns a hold record and its analysis report into the
// view pages and notices render (templates.Summary).
package summary

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/templates"
)

// Thresholds of the default policy's mass-exposure rule, used to offer
// "send with all recipients in Bcc" even when another rule held the mail.
const (
	massVisibleExternal = 10
	massVisibleDomains  = 5
	ruleMassExposure    = "mass-exposure"
)

// DecodeReport reads the report stored with a hold record; an empty or
// broken one gives an empty report, so a page still renders from the
// record's own summary.
func DecodeReport(raw json.RawMessage) (*rules.Report, error) {
	rep := &rules.Report{}
	if len(raw) == 0 {
		return rep, nil
	}
	if err := json.Unmarshal(raw, rep); err != nil {
		return &rules.Report{}, fmt.Errorf("decode report: %w", err)
	}
	return rep, nil
}

// Of builds the Summary of rec with its report rep (nil means the
// record's stored report, or none).
func Of(rec *hold.Record, rep *rules.Report) templates.Summary {
	if rep == nil {
		rep, _ = DecodeReport(rec.Report)
	}
	s := templates.Summary{
		ID: rec.ID, Kind: string(rec.Kind), State: string(rec.State),
		Subject: firstNonEmpty(rec.Subject, rep.Subject), Sender: firstNonEmpty(rec.Sender, rep.Sender),
		Created: rec.CreatedAt, Deadline: rec.Deadline,
		Rules:     rec.Decision.Rules,
		Approvals: len(rec.Approvals), Required: rec.Required(),
		People: rep.People, PeopleApproximate: rep.PeopleApproximate, DataItems: rep.DataItems,
		MyNumber: slices.Contains(rep.DataItems, rules.DataItemMyNumber),
	}
	for _, a := range rec.Approvals {
		s.ApprovedBy = append(s.ApprovedBy, a.By)
	}
	for _, l := range rep.Recipients.Lookalike {
		s.Lookalikes = append(s.Lookalikes, templates.Lookalike{Address: l.Address, Resembles: l.Resembles, Reason: l.Reason})
	}
	for _, r := range rec.Decision.Localized {
		s.Reasons = append(s.Reasons, templates.Reason{Rule: r.Rule, JA: r.JA, EN: r.EN})
	}
	if len(s.Reasons) == 0 {
		// A record from before reasons were kept per language: its one
		// language is all there is.
		for _, t := range rec.Decision.Reasons {
			s.Reasons = append(s.Reasons, templates.Reason{JA: t, EN: t})
		}
	}
	s.Domains = groupRecipients(rec, rep)
	for _, g := range s.Domains {
		s.Total += len(g.Recipients)
		if g.External {
			s.External += len(g.Recipients)
			s.ExternalDomains++
		}
	}
	s.Attachments, s.BodyFindings, s.OtherFindings = attachFindings(rep)
	s.MassExposure = slices.Contains(rec.Decision.Rules, ruleMassExposure) ||
		rep.Recipients.VisibleExternal >= massVisibleExternal ||
		len(rep.Recipients.VisibleExternalDomains) >= massVisibleDomains
	return s
}

func groupRecipients(rec *hold.Record, rep *rules.Report) []templates.DomainGroup {
	look := map[string]rules.Lookalike{}
	for _, l := range rep.Recipients.Lookalike {
		look[domainOf(l.Address)] = l
	}
	list := rep.Recipients.List
	if len(list) == 0 {
		// No report: every address of the record's sample counts as external,
		// the cautious reading.
		for _, a := range rec.Recipients.Addresses {
			list = append(list, rules.Recipient{Address: a, Domain: domainOf(a), External: true, Field: "to"})
		}
	}
	byDomain := map[string]*templates.DomainGroup{}
	var order []*templates.DomainGroup
	seen := map[string]bool{}
	for _, r := range list {
		addr := strings.ToLower(strings.TrimSpace(r.Address))
		if addr == "" || seen[addr] {
			continue
		}
		seen[addr] = true
		d := strings.ToLower(r.Domain)
		if d == "" {
			d = domainOf(addr)
		}
		g := byDomain[d]
		if g == nil {
			g = &templates.DomainGroup{Domain: d}
			if l, ok := look[d]; ok {
				g.Resembles, g.Lookalike = l.Resembles, l.Reason
			}
			byDomain[d] = g
			order = append(order, g)
		}
		// A domain is external if any of its recipients is; a look-alike
		// always is.
		g.External = g.External || r.External || g.Resembles != ""
		g.Recipients = append(g.Recipients, templates.RecipientView{Address: addr, Name: r.Name, Field: r.Field})
	}
	out := make([]templates.DomainGroup, 0, len(order))
	for _, g := range order {
		out = append(out, *g)
	}
	slices.SortStableFunc(out, func(a, b templates.DomainGroup) int {
		if a.External != b.External {
			if a.External {
				return -1
			}
			return 1
		}
		return templates.NaturalCompare(a.Domain, b.Domain)
	})
	return out
}

func attachFindings(rep *rules.Report) (atts []templates.AttachmentView, body, other []templates.FindingView) {
	byLoc := map[string]int{}
	for i, a := range rep.Attachments {
		atts = append(atts, templates.AttachmentView{
			Index: i, Name: a.Name, Location: a.Location, Type: a.Type, Size: a.Size,
			Depth: a.Depth, Encrypted: a.Encrypted, Unscannable: a.Unscannable,
		})
		if _, dup := byLoc[a.Location]; !dup {
			byLoc[a.Location] = i
		}
	}
	for _, f := range rep.Findings {
		v := templates.FindingView{
			Detector: f.Detector, Count: f.Count, Records: f.Records,
			Location: f.Location, Samples: f.Samples, Reason: f.Reason,
		}
		switch i, ok := byLoc[f.Location]; {
		case f.Location == "body" || f.Location == "":
			body = append(body, v)
		case ok:
			atts[i].Findings = append(atts[i].Findings, v)
		default:
			other = append(other, v)
		}
	}
	return atts, body, other
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
