package inspect

import (
	"slices"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/rules/edm"
	"github.com/sendguard/sendguard/rules/extract"
)

// Detector names of the checks that know the company's own data.
const (
	DetectorEDM               = "edm"
	DetectorAddresseeMismatch = "addressee_mismatch"
)

// ownScan runs, over one message, the checks that need the company's own
// data: exact data match against the customer index and the addressee check
// against the partner directory. Either may be off (nil).
type ownScan struct {
	edm      *edm.Index
	partners *addressee.Directory
	learned  addressee.LearnedNames // nil: the directory alone
	quoted   []addressee.QuotedSignature
	matches  map[string]*edm.Match
	named    map[string][]int
	order    []string // locations in the order first seen
}

func newOwnScan(ix *edm.Index, dir *addressee.Directory) *ownScan {
	return &ownScan{edm: ix, partners: dir, matches: map[string]*edm.Match{}, named: map[string][]int{}}
}

// part takes one part: its exact data match m (nil: matched here from
// p.Text) and its text for the addressee check.
func (s *ownScan) part(p *extract.Part, m *edm.Match) {
	if s.edm == nil && s.partners == nil {
		return
	}
	_, seenM := s.matches[p.Location]
	_, seenN := s.named[p.Location]
	if !seenM && !seenN {
		s.order = append(s.order, p.Location)
	}
	if s.edm != nil {
		if m == nil {
			m = s.edm.Match(p.Text, p.Tabular)
		}
		if prev := s.matches[p.Location]; prev != nil {
			prev.Merge(m) // text and HTML of one body
		} else {
			s.matches[p.Location] = m
		}
	}
	if s.partners != nil && !seenN {
		s.named[p.Location] = s.partners.Names(p.Text)
		if p.Location == "body" {
			s.quoted = append(s.quoted, addressee.QuotedSignatures(p.Text)...)
		}
	}
}

// findings returns the report's findings from these checks; the recipients
// must be analysed already.
func (s *ownScan) findings(rep *rules.Report) []rules.Finding {
	var out []rules.Finding
	var rcpts []string
	for _, r := range rep.Recipients.List {
		rcpts = append(rcpts, r.Address)
	}
	for _, q := range s.quoted {
		if slices.Contains(rep.Recipients.ExternalDomains, q.Domain) {
			rep.PartnerNames = append(rep.PartnerNames, rules.PartnerName{Domain: q.Domain, Name: q.Name})
		}
	}
	for _, loc := range s.order {
		m := s.matches[loc]
		if s.edm != nil {
			m.Without(s.edm, rcpts)
		}
		if m.Records() > 0 {
			out = append(out, rules.Finding{Detector: DetectorEDM, Count: m.Records(), Records: m.Records(),
				Location: loc, Samples: m.Samples(3)})
		}
		if s.partners == nil {
			continue
		}
		for _, mm := range s.partners.CompareLearned(s.named[loc], rep.Recipients.ExternalDomains, s.learned) {
			out = append(out, rules.Finding{Detector: DetectorAddresseeMismatch, Count: 1, Location: loc,
				Samples: []string{mm.Named, mm.Recipient + " (" + mm.Domain + ")"}})
		}
	}
	return out
}

// OwnData describes the company's own data in use: the customer index (nil
// when exact data match is off) and the number of partner companies.
func (in *Inspector) OwnData() (index *edm.Info, partners int) {
	if in.edm != nil {
		i := in.edm.Info()
		index = &i
	}
	if in.partners != nil {
		partners = in.partners.Len()
	}
	return index, partners
}
