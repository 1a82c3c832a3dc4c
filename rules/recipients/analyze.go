package recipients

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sendguard/sendguard/rules"
)

// Config names the organisation's own and its partners' domains. Entries are
// exact domains or "*.example.com" wildcards (strict subdomains only).
type Config struct {
	InternalDomains []string
	PartnerDomains  []string
}

// Input is what the analysis reads from one message.
type Input struct {
	From string   // raw From header value
	To   []string // raw To header values, one per header field
	Cc   []string // raw Cc header values
	// Bcc header values are read only when Envelope is empty (an offline
	// check of a message saved by a client).
	Bcc []string
	// Envelope are the RCPT TO addresses. When empty, the header recipients
	// stand in for them.
	Envelope []string
}

// Result is the recipient part of a rules.Report.
type Result struct {
	Recipients rules.Recipients
	From       string   // first From address, canonical and lower-cased
	Errors     []string // broken addresses, for rules.Report.Errors
}

// Analyzer classifies recipients. Create it with New.
type Analyzer struct {
	internal  domainSet
	partner   domainSet
	lookalike *LookalikeChecker
	history   History
}

// New returns an Analyzer. A nil history knows no domain, so every external
// domain that is not a partner's is first-time. Invalid configured domains
// are reported all at once.
func New(cfg Config, history History) (*Analyzer, error) {
	internal, errs := newDomainSet(cfg.InternalDomains)
	partner, perrs := newDomainSet(cfg.PartnerDomains)
	if errs = append(errs, perrs...); len(errs) > 0 {
		return nil, fmt.Errorf("recipients config: %w", errors.Join(errs...))
	}
	if history == nil {
		history = NewMemoryHistory()
	}
	targets := append(internal.all(), partner.all()...)
	return &Analyzer{
		internal:  internal,
		partner:   partner,
		lookalike: NewLookalikeChecker(targets...),
		history:   history,
	}, nil
}

// Internal reports whether a domain (in any form) is internal.
func (an *Analyzer) Internal(domain string) bool {
	d, _ := NormalizeDomain(domain)
	return an.internal.contains(d)
}

// entry is one distinct address met during an analysis.
type entry struct {
	addr     Address
	field    string
	visible  bool
	envelope bool
}

// Analyze classifies the recipients of one message.
func (an *Analyzer) Analyze(in Input) Result {
	var res Result
	addErr := func(field string, errs []error) {
		for _, err := range errs {
			res.Errors = append(res.Errors, field+": "+err.Error())
		}
	}
	if in.From != "" {
		from, errs := ParseList(in.From)
		addErr("From", errs)
		if len(from) > 0 {
			res.From = from[0].String()
		}
	}

	var (
		order []*entry
		byKey = map[string]*entry{}
	)
	add := func(a Address, field string, visible, envelope bool) {
		k := a.key()
		e, ok := byKey[k]
		if !ok {
			e = &entry{addr: a, field: field}
			byKey[k] = e
			order = append(order, e)
		}
		if a.Name != "" && e.addr.Name == "" {
			e.addr.Name = a.Name
		}
		if visible && !e.visible {
			e.visible, e.field = true, field
		}
		e.envelope = e.envelope || envelope
	}
	header := func(field, label string, values []string, visible, envelope bool) {
		for _, v := range values {
			list, errs := ParseList(v)
			addErr(label, errs)
			for _, a := range list {
				add(a, field, visible, envelope)
			}
		}
	}
	offline := len(in.Envelope) == 0
	header("to", "To", in.To, true, offline)
	header("cc", "Cc", in.Cc, true, offline)
	if offline {
		header("bcc", "Bcc", in.Bcc, false, true)
	}
	for _, r := range in.Envelope {
		a, err := ParseEnvelope(r)
		if err != nil {
			addErr("RCPT TO", []error{err})
		}
		// Even an unparsable envelope recipient receives a copy: it is
		// counted (as external), never dropped.
		add(a, "bcc", false, true)
	}

	res.Recipients = an.summarise(order)
	return res
}

// summarise computes the counts and domain lists over the distinct entries.
func (an *Analyzer) summarise(order []*entry) rules.Recipients {
	r := rules.Recipients{
		VisibleExternalDomains: []string{},
		ExternalDomains:        []string{},
		Lookalike:              []rules.Lookalike{},
		FirstTimeDomains:       []string{},
		List:                   make([]rules.Recipient, 0, len(order)),
	}
	visibleDomains := map[string]struct{}{}
	externalDomains := map[string]struct{}{}
	looked := map[string]*Match{} // per raw domain: case and script matter
	for _, e := range order {
		// Fail closed: an address a next hop could route elsewhere, or one
		// that could not be parsed, is external whatever its domain says.
		ext := e.addr.Invalid || e.addr.Routing != 0 || !an.internal.contains(e.addr.Domain)
		addr := e.addr.String()
		r.List = append(r.List, rules.Recipient{
			Address:  addr,
			Name:     e.addr.Name,
			Field:    e.field,
			Domain:   e.addr.Domain,
			External: ext,
			Envelope: e.envelope,
		})
		if e.envelope {
			r.Total++
		}
		if !ext {
			continue
		}
		if e.visible {
			r.VisibleExternal++
			if e.addr.Domain != "" {
				visibleDomains[e.addr.Domain] = struct{}{}
			}
		}
		if !e.envelope {
			continue
		}
		r.External++
		if e.addr.Domain != "" {
			externalDomains[e.addr.Domain] = struct{}{}
		}
		if e.addr.Routing != 0 {
			// A routed address shows one destination and may reach
			// another: the default policy's look-alike rule holds it for
			// the sender to check.
			r.Lookalike = append(r.Lookalike, rules.Lookalike{Address: addr, Resembles: shownDomain(e.addr),
				Reason: "routed address: " + e.addr.Routing.String()})
			continue
		}
		m, ok := looked[e.addr.RawDomain]
		if !ok {
			if hit, found := an.lookalike.Check(e.addr.RawDomain); found {
				m = &hit
			}
			looked[e.addr.RawDomain] = m
		}
		if m != nil {
			r.Lookalike = append(r.Lookalike, rules.Lookalike{Address: addr, Resembles: m.Resembles, Reason: m.Reason})
		}
	}
	r.VisibleExternalDomains = sortedKeys(visibleDomains)
	r.ExternalDomains = sortedKeys(externalDomains)
	for _, d := range r.ExternalDomains {
		if !an.known(d) {
			r.FirstTimeDomains = append(r.FirstTimeDomains, d)
		}
	}
	return r
}

// known reports whether mail has gone to d before: d or a parent of it, up
// to its registrable domain, is a partner's or in the history (a new host
// name of a known organisation is not a new correspondent).
func (an *Analyzer) known(d string) bool {
	reg := registrable(d)
	for {
		if an.partner.contains(d) || an.history.Known(d) {
			return true
		}
		_, parent, ok := strings.Cut(d, ".")
		if d == reg || !ok || len(parent) < len(reg) {
			return false
		}
		d = parent
	}
}

// shownDomain is the domain a routed address appears to go to: the one
// embedded in its local part ("x@example.com"@evil.example,
// x%example.com@relay, example.com!x@relay), else its own.
func shownDomain(a Address) string {
	l := a.Local
	if i := strings.LastIndexAny(l, "@%"); i >= 0 {
		if d, err := NormalizeDomain(l[i+1:]); err == nil {
			return d
		}
	}
	if i := strings.IndexByte(l, '!'); i > 0 {
		if d, err := NormalizeDomain(l[:i]); err == nil {
			return d
		}
	}
	return a.Domain
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
