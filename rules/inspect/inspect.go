// Package inspect runs the whole analysis of one message — content
// extraction, detectors, recipient analysis — and the policy over its
// report. It is what `sendguard check` and the gateway call.
//
// Every place a person writes text is scanned by the same detectors: body
// parts, attachment content and document properties (location
// "attachment:NAME[/INNER]"), the decoded Subject ("subject") and every file
// and archive member name ("filename:NAME[/INNER]").
//
// Invariants: it reads the message once, streaming (extract.Walk); it never
// fails on message content (problems become report errors or unscannable
// findings; text cut at a limit becomes a "truncated" finding); raw detector
// values reach the report only when Reveal is set. An Inspector holds the
// policy and the detectors' dictionaries, patterns and allowed values
// together: a new configuration is a new Inspector.
package inspect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/rules/detect"
	"github.com/sendguard/sendguard/rules/edm"
	"github.com/sendguard/sendguard/rules/extract"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/rules/recipients"
)

// Config configures an Inspector.
type Config struct {
	InternalDomains []string
	PartnerDomains  []string
	// History says which external domains the organisation has delivered
	// to before; nil knows none.
	History recipients.History
	// Keywords replaces the confidentiality dictionary when non-nil.
	Keywords []string
	// Detect adds the company's dictionaries, custom patterns and allowed
	// values (detect.Config's fields of the same names); they are part of
	// the Inspector, so a new configuration swaps them with the policy.
	Dictionaries        []detect.Dictionary
	NoBuiltinDictionary bool
	Patterns            []detect.Pattern
	Allow               []string
	// Policy decides; nil uses the embedded default policy.
	Policy *policy.Policy
	// Limits bound extraction; zero fields take the defaults.
	Limits extract.Limits
	// Reveal keeps raw matched values in findings (`check -reveal`).
	Reveal bool
	// EDM is the company's own record index (exact data match); nil is off.
	EDM *edm.Index
	// Partners is the partner directory for the addressee check; nil is off.
	Partners *addressee.Directory
	// LearnedPartners, if set, names the companies delivered mail showed
	// with domains the directory does not list (addressee.CompareLearned).
	LearnedPartners addressee.LearnedNames
}

// Inspector analyses messages. It is safe for concurrent use.
type Inspector struct {
	rcpt     *recipients.Analyzer
	det      *detect.Engine
	policy   *policy.Policy
	lim      extract.Limits
	edm      *edm.Index
	partners *addressee.Directory
	learned  addressee.LearnedNames
}

// New builds an Inspector.
func New(cfg Config) (*Inspector, error) {
	rc, err := recipients.New(recipients.Config{InternalDomains: cfg.InternalDomains, PartnerDomains: cfg.PartnerDomains}, cfg.History)
	if err != nil {
		return nil, err
	}
	det, err := detect.New(detect.Config{Keywords: cfg.Keywords, RetainValues: cfg.Reveal,
		Dictionaries: cfg.Dictionaries, NoBuiltinDictionary: cfg.NoBuiltinDictionary,
		Patterns: cfg.Patterns, Allow: cfg.Allow})
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	pol := cfg.Policy
	if pol == nil {
		if pol, err = policy.Default(); err != nil {
			return nil, fmt.Errorf("default policy: %w", err)
		}
	}
	lim := cfg.Limits
	if lim == (extract.Limits{}) {
		lim = extract.DefaultLimits()
	}
	return &Inspector{rcpt: rc, det: det, policy: pol, lim: lim, edm: cfg.EDM, partners: cfg.Partners,
		learned: cfg.LearnedPartners}, nil
}

// Locations of text that is not a part's content (design.md).
const (
	LocationSubject = "subject"
	namePrefix      = "filename:"
)

// NameLocation is the location of the file name of the part at loc:
// "attachment:a.zip/b.csv" → "filename:a.zip/b.csv".
func NameLocation(loc string) string {
	return namePrefix + strings.TrimPrefix(loc, "attachment:")
}

// Envelope is the SMTP envelope of the message, if known. An offline check
// of a saved message has none: header recipients stand in.
type Envelope struct {
	MailFrom string
	Rcpts    []string
	// Directory is the sender's directory entry, copied into the report
	// for the policy (nil: no directory).
	Directory *rules.SenderDirectory
	// Behaviour is the sender's baseline, copied into the report for the
	// policy (nil: no baselines).
	Behaviour *rules.SenderBehaviour
}

// Result is one message's analysis and decision.
type Result struct {
	Report    *rules.Report
	Decision  policy.Decision
	MessageID string
}

// Inspect analyses the message read from r and evaluates the policy.
func (in *Inspector) Inspect(ctx context.Context, r io.Reader, env Envelope) (*Result, error) {
	rep, msg, err := in.Analyze(ctx, r, env)
	if err != nil {
		return nil, err
	}
	d := in.policy.Evaluate(rep)
	return &Result{Report: rep, Decision: d, MessageID: msg.MessageID}, nil
}

// location accumulates one location's detector results (a body has a text
// and an HTML alternative: both are "body" and count once).
type location struct {
	name    string
	res     *detect.Result
	records int // rows (or pasted list lines) carrying personal data
}

// partRecords counts a part's personal-data records: table rows, or, for
// a list pasted into prose, the lines with a personal-data hit.
func partRecords(r *detect.Result) int { return max(r.Records, r.Lines) }

// Analyze builds the report without evaluating the policy.
func (in *Inspector) Analyze(ctx context.Context, r io.Reader, env Envelope) (*rules.Report, *extract.Message, error) {
	rep := &rules.Report{Sender: env.MailFrom, SenderDirectory: env.Directory, SenderBehaviour: env.Behaviour, Findings: []rules.Finding{}, Attachments: []rules.Attachment{}, Errors: []string{}}
	var locs []*location
	byName := map[string]*location{}
	people := in.det.NewTally()
	// add files one scan under its location; the text and HTML versions of
	// one body, or a document's text and its properties, merge.
	add := func(loc string, res *detect.Result, records int) error {
		if err := people.Add(res); err != nil {
			return err
		}
		if l, ok := byName[loc]; ok {
			// the larger count, not the sum: the same rows read twice
			l.records = max(l.records, records)
			return l.res.Merge(res)
		}
		l := &location{name: loc, res: res, records: records}
		byName[loc] = l
		locs = append(locs, l)
		return nil
	}
	own := newOwnScan(in.edm, in.partners)
	own.learned = in.learned
	// Each part's text goes through the detectors and exact data match as
	// it is decoded, a window at a time, never held whole (the addressee
	// check, when configured, still reads it whole).
	open := func(loc string, tabular bool) io.Writer {
		s := &partSink{doc: in.det.NewDocument(tabular)}
		if in.edm != nil {
			s.edm = in.edm.NewStream(tabular)
		}
		if in.partners != nil {
			s.keep = &bytes.Buffer{}
		}
		return s
	}
	msg, err := extract.WalkStream(ctx, r, in.lim, open, func(p *extract.Part) error {
		if p.Attachment != nil {
			rep.Attachments = append(rep.Attachments, *p.Attachment)
			// A file name is written by a person ("【社外秘】価格表.xlsx"),
			// and so is an archive member's path.
			if name := p.Attachment.Name; name != "" {
				if err := add(NameLocation(p.Location), in.det.Scan([]byte(name), false), 0); err != nil {
					return err
				}
			}
		}
		if p.Unscannable != "" {
			rep.Findings = append(rep.Findings, rules.Finding{Detector: rules.DetectorUnscannable, Count: 1,
				Location: p.Location, Samples: []string{}, Reason: p.Unscannable})
		}
		if p.Truncated {
			rep.Findings = append(rep.Findings, rules.Finding{Detector: rules.DetectorTruncated, Count: 1,
				Location: p.Location, Samples: []string{},
				Reason: fmt.Sprintf("only the first %d bytes of text were scanned", in.lim.MaxPartText)})
		}
		if s, ok := p.Sink.(*partSink); ok {
			if s.edm != nil || s.keep != nil {
				whole := *p
				if s.keep != nil {
					whole.Text = s.keep.Bytes()
				}
				var m *edm.Match
				if s.edm != nil {
					m = s.edm.Match()
				}
				own.part(&whole, m)
			}
			res := s.doc.Result()
			if err := add(p.Location, res, partRecords(res)); err != nil {
				return err
			}
		}
		if len(p.Properties) == 0 {
			return nil
		}
		// merged after the content, whose samples come first
		return add(p.Location, in.det.Scan(p.Properties, false), 0)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("analyse message: %w", err)
	}
	if msg.Subject != "" {
		if err := add(LocationSubject, in.det.Scan([]byte(msg.Subject), false), 0); err != nil {
			return nil, nil, fmt.Errorf("analyse message: %w", err)
		}
	}
	for _, l := range locs {
		for _, h := range l.res.Hits() {
			f := rules.Finding{Detector: h.Detector, Count: h.Count, Location: l.name, Samples: h.Samples}
			if f.Samples == nil {
				f.Samples = []string{}
			}
			if h.Detector != detect.Keyword {
				f.Records = l.records
			}
			f.Values = h.Values
			f.Dictionary, f.Level = h.Dictionary, h.Level
			f.Why, f.Confidence = h.Why, h.Confidence
			rep.Findings = append(rep.Findings, f)
		}
		if l.res.Incomplete != "" {
			rep.Findings = append(rep.Findings, rules.Finding{Detector: rules.DetectorTruncated, Count: 1,
				Location: l.name, Samples: []string{}, Reason: l.res.Incomplete})
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].Location < rep.Findings[j].Location })

	ri := recipients.Input{From: msg.From, Envelope: env.Rcpts}
	if msg.To != "" {
		ri.To = []string{msg.To}
	}
	if msg.Cc != "" {
		ri.Cc = []string{msg.Cc}
	}
	if len(env.Rcpts) == 0 {
		if bcc := msg.Header.Get("Bcc"); bcc != "" {
			ri.Bcc = []string{bcc}
		}
	}
	rr := in.rcpt.Analyze(ri)
	rep.Recipients = rr.Recipients
	rep.From = rr.From
	rep.Subject = msg.Subject
	rep.Size = msg.Size
	rep.AttachmentsHashed = msg.AttachmentsHashed
	rep.People, rep.PeopleApproximate = people.People()
	rep.DataItems = people.DataItems()
	if rep.DataItems == nil {
		rep.DataItems = []string{}
	}
	rep.Findings = append(rep.Findings, own.findings(rep)...)
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].Location < rep.Findings[j].Location })
	rep.Errors = append(rep.Errors, msg.Errors...)
	rep.Errors = append(rep.Errors, rr.Errors...)
	if msg.Incomplete {
		rep.Findings = append(rep.Findings, rules.Finding{Detector: rules.DetectorUnscannable, Count: 1,
			Location: "message", Samples: []string{}, Reason: "analysis stopped at a limit before the end of the message"})
	}
	rep.Findings = slices.Clip(rep.Findings)
	return rep, msg, nil
}

// partSink receives one part's text from extract.WalkStream: the
// detectors' chunked scan, exact data match over the same window, and a
// copy only for the addressee check, which reads text whole.
type partSink struct {
	doc  *detect.Document
	edm  *edm.Stream
	keep *bytes.Buffer
}

func (s *partSink) Write(p []byte) (int, error) {
	if s.keep != nil {
		s.keep.Write(p)
	}
	if s.edm != nil {
		s.edm.Write(p)
	}
	return s.doc.Write(p)
}
