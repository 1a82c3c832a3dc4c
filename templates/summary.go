package templates

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules"
)

// Thresholds of the default policy's mass-exposure rule, used to offer
// "send with all recipients in Bcc" even when another rule held the mail.
const (
	massVisibleExternal = 10
	massVisibleDomains  = 5
	ruleMassExposure    = "mass-exposure"
)

// Summary is what a notice or page shows about a held message: who
// receives it grouped by domain, look-alikes, attachments with their
// findings (masked samples only) and why it was held.
type Summary struct {
	ID       string
	Kind     hold.Kind
	State    hold.State
	Subject  string
	Sender   string
	Created  time.Time
	Deadline time.Time

	Domains         []DomainGroup // external first, then internal, each by name
	Total           int           // distinct recipients
	External        int           // distinct external recipients
	ExternalDomains int
	Lookalikes      []rules.Lookalike
	Attachments     []AttachmentView
	BodyFindings    []FindingView
	OtherFindings   []FindingView // findings at a location no attachment names
	Rules           []string
	// Reasons are the policy's reasons in both languages; Catalog.Why
	// turns them and Rules into the reader's "why held" list.
	Reasons []hold.Reason
	// People is the estimated number of people whose personal data the
	// message carries; DataItems the kinds of data (氏名, 住所, …).
	People            int
	PeopleApproximate bool
	DataItems         []string
	// MassExposure is true when the message was held for showing many
	// external addresses to each other, so Bcc is a useful way out.
	MassExposure bool
}

// DomainGroup is one recipient domain.
type DomainGroup struct {
	Domain     string
	External   bool
	Resembles  string // non-empty when the domain looks like this one
	Lookalike  string // the look-alike's reason, e.g. "homoglyph rn/m"
	Recipients []RecipientView
}

// RecipientView is one distinct recipient address.
type RecipientView struct {
	Address string
	Name    string
	Field   string // to, cc or bcc
}

// AttachmentView is one attachment and what was found in it.
type AttachmentView struct {
	Index       int // position in the report, the key of its checkbox
	Name        string
	Location    string
	Type        string
	Size        int64
	Depth       int
	Encrypted   bool
	Unscannable string
	Findings    []FindingView
}

// FindingView is a finding without its unmasked values.
type FindingView struct {
	Detector string
	Count    int
	Records  int
	Location string
	Samples  []string
	Reason   string
}

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

// NewSummary builds the Summary of rec with its report rep (nil means the
// record's stored report, or none).
func NewSummary(rec *hold.Record, rep *rules.Report) Summary {
	if rep == nil {
		rep, _ = DecodeReport(rec.Report)
	}
	s := Summary{
		ID: rec.ID, Kind: rec.Kind, State: rec.State,
		Subject: firstNonEmpty(rec.Subject, rep.Subject), Sender: firstNonEmpty(rec.Sender, rep.Sender),
		Created: rec.CreatedAt, Deadline: rec.Deadline,
		Lookalikes: rep.Recipients.Lookalike,
		People:     rep.People, PeopleApproximate: rep.PeopleApproximate, DataItems: rep.DataItems,
		Rules: rec.Decision.Rules, Reasons: rec.Decision.Localized,
	}
	if len(s.Reasons) == 0 {
		// A record from before reasons were kept per language: its one
		// language is all there is.
		for _, t := range rec.Decision.Reasons {
			s.Reasons = append(s.Reasons, hold.Reason{JA: t, EN: t})
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

// ExternalDomainNames lists the external domains, each of which the sender
// must acknowledge before sending.
func (s Summary) ExternalDomainNames() []string {
	var out []string
	for _, g := range s.Domains {
		if g.External {
			out = append(out, g.Domain)
		}
	}
	return out
}

// Acks are the checkbox values a sender must tick: "d:DOMAIN" for each
// external domain and "a:INDEX" for each top-level attachment.
func (s Summary) Acks() []string {
	var out []string
	for _, d := range s.ExternalDomainNames() {
		out = append(out, AckDomain(d))
	}
	for _, a := range s.Attachments {
		if a.Depth == 0 {
			out = append(out, AckAttachment(a.Index))
		}
	}
	return out
}

// AttachmentAcks are the attachment boxes only: what "send with all
// recipients in Bcc" needs ticked.
func (s Summary) AttachmentAcks() []string {
	var out []string
	for _, a := range s.Attachments {
		if a.Depth == 0 {
			out = append(out, AckAttachment(a.Index))
		}
	}
	return out
}

// AckDomain is the checkbox value for an external domain.
func AckDomain(d string) string { return "d:" + d }

// AckAttachment is the checkbox value for the attachment at index i.
func AckAttachment(i int) string { return fmt.Sprintf("a:%d", i) }

func groupRecipients(rec *hold.Record, rep *rules.Report) []DomainGroup {
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
	byDomain := map[string]*DomainGroup{}
	var order []*DomainGroup
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
			g = &DomainGroup{Domain: d}
			if l, ok := look[d]; ok {
				g.Resembles, g.Lookalike = l.Resembles, l.Reason
			}
			byDomain[d] = g
			order = append(order, g)
		}
		// A domain is external if any of its recipients is; a look-alike
		// always is.
		g.External = g.External || r.External || g.Resembles != ""
		g.Recipients = append(g.Recipients, RecipientView{Address: addr, Name: r.Name, Field: r.Field})
	}
	out := make([]DomainGroup, 0, len(order))
	for _, g := range order {
		out = append(out, *g)
	}
	slices.SortStableFunc(out, func(a, b DomainGroup) int {
		if a.External != b.External {
			if a.External {
				return -1
			}
			return 1
		}
		return NaturalCompare(a.Domain, b.Domain)
	})
	return out
}

func attachFindings(rep *rules.Report) (atts []AttachmentView, body, other []FindingView) {
	byLoc := map[string]int{}
	for i, a := range rep.Attachments {
		atts = append(atts, AttachmentView{
			Index: i, Name: a.Name, Location: a.Location, Type: a.Type, Size: a.Size,
			Depth: a.Depth, Encrypted: a.Encrypted, Unscannable: a.Unscannable,
		})
		if _, dup := byLoc[a.Location]; !dup {
			byLoc[a.Location] = i
		}
	}
	for _, f := range rep.Findings {
		v := FindingView{
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

// NaturalCompare orders strings as people count: runs of digits by value,
// so customer2 comes before customer10.
func NaturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
