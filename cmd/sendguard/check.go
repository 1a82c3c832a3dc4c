package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
)

// checkOutput is the `check -json` contract (design.md), one object per
// file, plus the attachment facts and the policy's reasons.
type checkOutput struct {
	File string `json:"file"`
	// Envelope names the sender and recipients the analysis used.
	Envelope   checkEnvelopeJSON `json:"envelope"`
	Actions    []string          `json:"actions"`
	Rules      []string          `json:"rules"`
	Recipients checkRecipients   `json:"recipients"`
	Findings   []checkFinding    `json:"findings"`
	// People and DataItems: the distinct people whose personal data the
	// message carries (an estimate past 4,096) and the kinds of data.
	People            int                `json:"people"`
	PeopleApproximate bool               `json:"people_approximate,omitempty"`
	DataItems         []string           `json:"data_items"`
	Errors            []string           `json:"errors"`
	Attachments       []rules.Attachment `json:"attachments"`
	Reasons           []policy.Reason    `json:"reasons,omitempty"`
	// SenderDirectory is the -from sender's directory entry (with -config
	// naming a directory).
	SenderDirectory *rules.SenderDirectory `json:"sender_directory,omitempty"`
}

type checkEnvelopeJSON struct {
	From       string   `json:"from"`
	Recipients []string `json:"recipients"`
	// Source is "flags" (-from/-rcpt) or "headers" (To/Cc/Bcc stood in).
	Source string `json:"source"`
}

type checkRecipients struct {
	Total                  int               `json:"total"`
	External               int               `json:"external"`
	VisibleExternal        int               `json:"visible_external"`
	VisibleExternalDomains []string          `json:"visible_external_domains"`
	ExternalDomains        []string          `json:"external_domains"`
	Lookalike              []rules.Lookalike `json:"lookalike"`
	FirstTimeDomains       []string          `json:"first_time_domains"`
}

type checkFinding struct {
	Detector string `json:"detector"`
	// Dictionary and Level name the keyword dictionary that matched.
	Dictionary string   `json:"dictionary,omitempty"`
	Level      string   `json:"level,omitempty"`
	Count      int      `json:"count"`
	Records    int      `json:"records,omitempty"`
	Location   string   `json:"location"`
	Samples    []string `json:"samples"`
	Reason     string   `json:"reason,omitempty"`
	Why        []string `json:"why,omitempty"`
	Confidence string   `json:"confidence,omitempty"`
	Values     []string `json:"values,omitempty"`
}

// Exit codes of `sendguard check` (documented in the README): scripts
// branch on them.
const (
	checkExitDeliver = 0 // every file would be delivered (possibly rewritten: bcc, encrypt, link)
	checkExitHold    = 1 // at least one file would be held, delayed or rejected
	checkExitError   = 2 // bad usage, bad configuration, or a file that is not a readable mail
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

const checkUsage = `usage: sendguard check [-config FILE] [-json] [-reveal] [-from ADDR] [-rcpt ADDR]... FILE.eml...

Analyses saved messages offline and prints the policy's decision; nothing is
sent. -from and -rcpt give the SMTP envelope as the MTA would (a recipient
given only with -rcpt counts as Bcc, exactly as in serve); without -rcpt the
header recipients (To, Cc, Bcc) are used.

Exit status: 0 every message would be delivered, 1 at least one would be
held, delayed or rejected, 2 an error (bad flags or configuration, a file
that cannot be read or is not a mail message).

`

// runCheck is `sendguard check`; it returns the exit status.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	reveal := fs.Bool("reveal", false, "also print the raw matched values (admin debugging only)")
	from := fs.String("from", "", "envelope sender (MAIL FROM)")
	var rcpts stringList
	fs.Var(&rcpts, "rcpt", "envelope recipient (RCPT TO); repeat for several")
	usage := func(w io.Writer) {
		fmt.Fprint(w, checkUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() {} // printed below, to stdout for -h
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return checkExitDeliver
		}
		usage(stderr) // after the flag package's own line naming the problem
		return checkExitError
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, checkUsage)
		return checkExitError
	}
	env, err := checkEnvelope(*from, rcpts)
	if err != nil {
		fmt.Fprintln(stderr, "sendguard check:", err)
		return checkExitError
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "sendguard check:", err)
		return checkExitError
	}
	insp, err := newRulesInspector(cfg, *reveal, nil)
	if err != nil {
		fmt.Fprintln(stderr, "sendguard check:", err)
		return checkExitError
	}
	if *cfgPath != "" {
		// The policy sees what serve would; a directory that does not
		// answer is reported and evaluated as "unavailable".
		if env.Directory, err = checkSenderDirectory(cfg, env.MailFrom); err != nil {
			fmt.Fprintln(stderr, "sendguard check: directory:", err)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	status := checkExitDeliver
	for _, path := range fs.Args() {
		out, err := checkFileEnv(insp, path, env, *reveal)
		if err != nil {
			fmt.Fprintf(stderr, "sendguard check: %s: %v\n", path, err)
			status = checkExitError
			continue
		}
		if *asJSON {
			if err := enc.Encode(out); err != nil {
				fmt.Fprintln(stderr, "sendguard check:", err)
				return checkExitError
			}
		} else {
			printCheck(stdout, out)
		}
		if status == checkExitDeliver && holds(out.Actions) {
			status = checkExitHold
		}
	}
	return status
}

// checkEnvelope validates the envelope flags: bare addresses, as in RCPT TO.
func checkEnvelope(from string, rcpts []string) (inspect.Envelope, error) {
	env := inspect.Envelope{MailFrom: strings.Trim(strings.TrimSpace(from), "<>")}
	if env.MailFrom != "" && !plausibleAddress(env.MailFrom) {
		return env, fmt.Errorf("-from %q is not an address", from)
	}
	for _, r := range rcpts {
		a := strings.Trim(strings.TrimSpace(r), "<>")
		if !plausibleAddress(a) {
			return env, fmt.Errorf("-rcpt %q is not an address", r)
		}
		env.Rcpts = append(env.Rcpts, a)
	}
	return env, nil
}

// plausibleAddress accepts local@domain without spaces or angle brackets;
// the recipient analysis does the rest, as it does for SMTP.
func plausibleAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " \t<>,;")
}

// holds reports whether a decision keeps the message from leaving now.
func holds(actions []string) bool {
	for _, a := range actions {
		switch a {
		case rules.ActionReject, rules.ActionHoldSender, rules.ActionHoldApprover, rules.ActionHoldReview, rules.ActionDelay:
			return true
		}
	}
	return false
}

// newRulesInspector builds the analysis with the configured (or embedded)
// policy and the configured dictionaries, patterns and allowed values: one
// unit, so a reload swaps them together. The policy is returned too, for
// the console's policy page.
func newRulesInspector(cfg *config.Config, reveal bool, hist interface{ Known(string) bool }) (*inspect.Inspector, error) {
	insp, _, err := newRulesInspectorPolicy(cfg, reveal, hist)
	return insp, err
}

func newRulesInspectorPolicy(cfg *config.Config, reveal bool, hist interface{ Known(string) bool }) (*inspect.Inspector, *policy.Policy, error) {
	return newRulesInspectorIn(cfg, reveal, hist, "")
}

// newRulesInspectorIn is newRulesInspectorPolicy spilling large
// attachments into tmp (the gateway's spool staging directory: mail
// content never lands in the system temp directory); "" is the system's,
// for the CLI.
func newRulesInspectorIn(cfg *config.Config, reveal bool, hist interface{ Known(string) bool }, tmp string) (*inspect.Inspector, *policy.Policy, error) {
	lim, err := extractionLimits(cfg.Extraction)
	if err != nil {
		return nil, nil, err
	}
	lim.TempDir = tmp
	dc := cfg.Detect.DetectConfig()
	ic := inspect.Config{InternalDomains: cfg.InternalDomains, PartnerDomains: cfg.PartnerDomains, Reveal: reveal,
		Limits:       lim,
		Dictionaries: dc.Dictionaries, NoBuiltinDictionary: dc.NoBuiltinDictionary, Patterns: dc.Patterns, Allow: dc.Allow}
	if hist != nil {
		ic.History = hist
		if l, ok := hist.(addressee.LearnedNames); ok {
			ic.LearnedPartners = l
		}
	}
	p, err := policy.Default()
	if cfg.Policy != "" {
		p, err = policy.Load(cfg.Policy)
	}
	if err != nil {
		return nil, nil, err
	}
	ic.Policy = p
	if err := ownData(cfg, &ic); err != nil {
		return nil, nil, err
	}
	insp, err := inspect.New(ic)
	return insp, p, err
}

func checkFile(insp *inspect.Inspector, path string, reveal bool) (*checkOutput, error) {
	return checkFileEnv(insp, path, inspect.Envelope{}, reveal)
}

// checkFileEnv analyses one saved message with the given envelope (none:
// the header recipients).
func checkFileEnv(insp *inspect.Inspector, path string, env inspect.Envelope, reveal bool) (*checkOutput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := requireMessage(f); err != nil {
		return nil, err
	}
	res, err := insp.Inspect(context.Background(), f, env)
	if err != nil {
		return nil, err
	}
	out := toCheckOutput(path, res, reveal)
	out.Envelope = checkEnvelopeOut(env, res.Report)
	out.SenderDirectory = res.Report.SenderDirectory
	return out, nil
}

// checkEnvelopeOut names the recipients the analysis used: the envelope
// given, or the header recipients standing in for it.
func checkEnvelopeOut(env inspect.Envelope, rep *rules.Report) checkEnvelopeJSON {
	out := checkEnvelopeJSON{From: env.MailFrom, Recipients: env.Rcpts, Source: "flags"}
	if len(env.Rcpts) == 0 {
		out.Source = "headers"
		out.Recipients = []string{}
		for _, r := range rep.Recipients.List {
			out.Recipients = append(out.Recipients, r.Address)
		}
	}
	return out
}

// ErrNotMail is returned for a file that does not start with a mail header.
var ErrNotMail = errors.New("not a mail message: it does not start with header fields such as From, To, Subject or Date")

// requireMessage refuses input that is not an RFC 5322 message (a README,
// a CSV) so that `check` never reports "deliver" for it. It reads the
// header block from the start of f and seeks back.
func requireMessage(f io.ReadSeeker) error {
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if !looksLikeMessage(head[:n]) {
		return ErrNotMail
	}
	return nil
}

// looksLikeMessage: the first line is a header field (or an mbox "From "
// line), and the header block names at least one field mails carry.
func looksLikeMessage(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	known := false
	for first := true; len(b) > 0; first = false {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the header block
		}
		if first {
			line = bytes.TrimLeft(line, " \t") // tolerated, as the analysis does
		} else if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		name = bytes.TrimRight(name, " \t") // obsolete syntax: "Subject  : x"
		if !ok || len(name) == 0 || bytes.IndexFunc(name, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			// a broken line after real fields is a broken mail, which the
			// analysis reads; a file that starts this way is not a mail
			return !first && known
		}
		switch strings.ToLower(string(name)) {
		case "from", "to", "cc", "bcc", "subject", "date", "message-id", "received", "return-path",
			"mime-version", "content-type", "sender", "reply-to", "delivered-to":
			known = true
		}
	}
	return known
}

func toCheckOutput(path string, res *inspect.Result, reveal bool) *checkOutput {
	rep := res.Report
	rc := rep.Recipients
	out := &checkOutput{File: path, Actions: res.Decision.Actions, Rules: res.Decision.Rules,
		Recipients: checkRecipients{Total: rc.Total, External: rc.External, VisibleExternal: rc.VisibleExternal,
			VisibleExternalDomains: nonNil(rc.VisibleExternalDomains), ExternalDomains: nonNil(rc.ExternalDomains),
			Lookalike: rc.Lookalike, FirstTimeDomains: nonNil(rc.FirstTimeDomains)},
		Findings: []checkFinding{}, Errors: nonNil(rep.Errors), Attachments: rep.Attachments, Reasons: res.Decision.Reasons,
		People: rep.People, PeopleApproximate: rep.PeopleApproximate, DataItems: nonNil(rep.DataItems)}
	if out.Recipients.Lookalike == nil {
		out.Recipients.Lookalike = []rules.Lookalike{}
	}
	for _, f := range rep.Findings {
		cf := checkFinding{Detector: f.Detector, Dictionary: f.Dictionary, Level: f.Level, Count: f.Count,
			Records: f.Records, Location: f.Location, Samples: nonNil(f.Samples), Reason: f.Reason,
			Why: f.Why, Confidence: f.Confidence}
		if reveal {
			cf.Values = f.Values
		}
		out.Findings = append(out.Findings, cf)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printCheck(w io.Writer, o *checkOutput) {
	fmt.Fprintf(w, "%s\n  decision: %s", o.File, strings.Join(o.Actions, ", "))
	if len(o.Rules) > 0 {
		fmt.Fprintf(w, " (rules: %s)", strings.Join(o.Rules, ", "))
	}
	fmt.Fprintln(w)
	for _, r := range o.Reasons {
		if r.EN != "" {
			fmt.Fprintf(w, "  why: %s\n", r.EN)
		}
	}
	if e := o.Envelope; e.Source == "flags" {
		fmt.Fprintf(w, "  envelope: from <%s> to %s\n", e.From, strings.Join(e.Recipients, ", "))
	} else {
		fmt.Fprintf(w, "  envelope: none given; header recipients used: %s\n", strings.Join(e.Recipients, ", "))
	}
	rc := o.Recipients
	fmt.Fprintf(w, "  recipients: %d total, %d external (%d visible in To/Cc)", rc.Total, rc.External, rc.VisibleExternal)
	if len(rc.ExternalDomains) > 0 {
		fmt.Fprintf(w, "; external domains: %s", strings.Join(rc.ExternalDomains, ", "))
	}
	fmt.Fprintln(w)
	if o.People > 0 {
		approx := ""
		if o.PeopleApproximate {
			approx = "about "
		}
		fmt.Fprintf(w, "  people: %s%d (%s)\n", approx, o.People, strings.Join(o.DataItems, ", "))
	}
	for _, l := range rc.Lookalike {
		fmt.Fprintf(w, "  look-alike: %s resembles %s %s\n", l.Address, l.Resembles, l.Reason)
	}
	for _, a := range o.Attachments {
		extra := ""
		if a.Encrypted {
			extra += " encrypted"
		}
		if a.Unscannable != "" {
			extra += " unscannable: " + a.Unscannable
		}
		fmt.Fprintf(w, "  attachment: %s (%s, %d bytes)%s\n", strings.TrimPrefix(a.Location, "attachment:"), a.Type, a.Size, extra)
	}
	for _, f := range o.Findings {
		det := f.Detector
		if f.Dictionary != "" {
			det += " (" + f.Dictionary + ")"
		}
		fmt.Fprintf(w, "  finding: %-16s %4d in %s", det, f.Count, f.Location)
		if f.Records > 0 {
			fmt.Fprintf(w, " (%d records)", f.Records)
		}
		if len(f.Samples) > 0 {
			fmt.Fprintf(w, " e.g. %s", strings.Join(f.Samples, ", "))
		}
		if f.Reason != "" {
			fmt.Fprintf(w, " — %s", f.Reason)
		}
		if len(f.Why) > 0 {
			fmt.Fprintf(w, " [%s confidence; why: %s]", f.Confidence, strings.Join(f.Why, " | "))
		}
		if len(f.Values) > 0 {
			fmt.Fprintf(w, " values: %s", strings.Join(f.Values, ", "))
		}
		fmt.Fprintln(w)
	}
	for _, e := range o.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}
