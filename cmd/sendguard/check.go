package main

import (
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
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
)

// checkOutput is the `check -json` contract (design.md), one object per
// file, plus the attachment facts and the policy's reasons.
type checkOutput struct {
	File        string             `json:"file"`
	Actions     []string           `json:"actions"`
	Rules       []string           `json:"rules"`
	Recipients  checkRecipients    `json:"recipients"`
	Findings    []checkFinding     `json:"findings"`
	Errors      []string           `json:"errors"`
	Attachments []rules.Attachment `json:"attachments"`
	Reasons     []policy.Reason    `json:"reasons,omitempty"`
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
	Detector   string   `json:"detector"`
	Count      int      `json:"count"`
	Records    int      `json:"records,omitempty"`
	Location   string   `json:"location"`
	Samples    []string `json:"samples"`
	Reason     string   `json:"reason,omitempty"`
	Why        []string `json:"why,omitempty"`
	Confidence string   `json:"confidence,omitempty"`
	Values     []string `json:"values,omitempty"`
}

func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	reveal := fs.Bool("reveal", false, "also print the raw matched values (admin debugging only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: sendguard check [-config FILE] [-json] [-reveal] FILE.eml...")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	insp, err := newRulesInspector(cfg, *reveal, nil)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, path := range fs.Args() {
		out, err := checkFile(insp, path, *reveal)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sendguard: %s: %v\n", path, err)
			failed++
			continue
		}
		if *asJSON {
			enc.Encode(out)
		} else {
			printCheck(os.Stdout, out)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d file(s) could not be read", failed)
	}
	return nil
}

// newRulesInspector builds the analysis with the configured (or embedded)
// policy; the policy is returned too, for the console's policy page.
func newRulesInspector(cfg *config.Config, reveal bool, hist interface{ Known(string) bool }) (*inspect.Inspector, error) {
	insp, _, err := newRulesInspectorPolicy(cfg, reveal, hist)
	return insp, err
}

func newRulesInspectorPolicy(cfg *config.Config, reveal bool, hist interface{ Known(string) bool }) (*inspect.Inspector, *policy.Policy, error) {
	ic := inspect.Config{InternalDomains: cfg.InternalDomains, PartnerDomains: cfg.PartnerDomains, Reveal: reveal}
	if hist != nil {
		ic.History = hist
	}
	p, err := policy.Default()
	if cfg.Policy != "" {
		p, err = policy.Load(cfg.Policy)
	}
	if err != nil {
		return nil, nil, err
	}
	ic.Policy = p
	insp, err := inspect.New(ic)
	return insp, p, err
}

func checkFile(insp *inspect.Inspector, path string, reveal bool) (*checkOutput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := insp.Inspect(context.Background(), f, inspect.Envelope{})
	if err != nil {
		return nil, err
	}
	return toCheckOutput(path, res, reveal), nil
}

func toCheckOutput(path string, res *inspect.Result, reveal bool) *checkOutput {
	rep := res.Report
	rc := rep.Recipients
	out := &checkOutput{File: path, Actions: res.Decision.Actions, Rules: res.Decision.Rules,
		Recipients: checkRecipients{Total: rc.Total, External: rc.External, VisibleExternal: rc.VisibleExternal,
			VisibleExternalDomains: nonNil(rc.VisibleExternalDomains), ExternalDomains: nonNil(rc.ExternalDomains),
			Lookalike: rc.Lookalike, FirstTimeDomains: nonNil(rc.FirstTimeDomains)},
		Findings: []checkFinding{}, Errors: nonNil(rep.Errors), Attachments: rep.Attachments, Reasons: res.Decision.Reasons}
	if out.Recipients.Lookalike == nil {
		out.Recipients.Lookalike = []rules.Lookalike{}
	}
	for _, f := range rep.Findings {
		cf := checkFinding{Detector: f.Detector, Count: f.Count, Records: f.Records, Location: f.Location,
			Samples: nonNil(f.Samples), Reason: f.Reason, Why: f.Why, Confidence: f.Confidence}
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
	rc := o.Recipients
	fmt.Fprintf(w, "  recipients: %d total, %d external (%d visible in To/Cc)", rc.Total, rc.External, rc.VisibleExternal)
	if len(rc.ExternalDomains) > 0 {
		fmt.Fprintf(w, "; external domains: %s", strings.Join(rc.ExternalDomains, ", "))
	}
	fmt.Fprintln(w)
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
		fmt.Fprintf(w, "  attachment: %s (%s, %d bytes)%s\n", a.Location, a.Type, a.Size, extra)
	}
	for _, f := range o.Findings {
		fmt.Fprintf(w, "  finding: %-16s %4d in %s", f.Detector, f.Count, f.Location)
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
