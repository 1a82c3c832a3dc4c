package templates

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// The view of a held message that pages and notices render. It is built
// from the hold record and its report by package hold/summary; this
// package knows neither.

// Summary is what a notice or page shows about a held message: who
// receives it grouped by domain, look-alikes, attachments with their
// findings (masked samples only) and why it was held.
type Summary struct {
	ID       string
	Kind     string // hold.Kind
	State    string // hold.State
	Subject  string
	Sender   string
	Created  time.Time
	Deadline time.Time

	Domains         []DomainGroup // external first, then internal, each by name
	Total           int           // distinct recipients
	External        int           // distinct external recipients
	ExternalDomains int
	Lookalikes      []Lookalike
	Attachments     []AttachmentView
	BodyFindings    []FindingView
	OtherFindings   []FindingView // findings at a location no attachment names
	Rules           []string
	// Reasons are the policy's reasons in both languages; Catalog.Why
	// turns them and Rules into the reader's "why held" list.
	Reasons []Reason
	// People is the estimated number of people whose personal data the
	// message carries; DataItems the kinds of data (氏名, 住所, …).
	People            int
	PeopleApproximate bool
	DataItems         []string
	MyNumber          bool // DataItems holds My Numbers
	// MassExposure is true when the message was held for showing many
	// external addresses to each other, so Bcc is a useful way out.
	MassExposure bool
	// Approvals and Required count an N-of-M approval ("1 of 2");
	// ApprovedBy names who approved so far. Required is 1 for any other
	// hold.
	Approvals, Required int
	ApprovedBy          []string
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

// Lookalike is a recipient whose domain resembles a known one.
type Lookalike struct {
	Address   string
	Resembles string
	Reason    string // e.g. "homoglyph rn/m"
}

// Reason is a policy rule's reason in both languages.
type Reason struct {
	Rule   string
	JA, EN string
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
