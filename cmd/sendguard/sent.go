package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/sent"
)

const sentUsage = `sent find [-config FILE] [-sender S] [-recipient R] [-domain D] [-subject S]
          [-detector NAME] [-since DATE] [-until DATE] [-limit N] [-json]
sent show [-config FILE] [-json] ID

  Delivered messages kept for sent.retention (30 days by default), newest
  first: when, sender, recipients, subject, people affected and findings.
  Text filters match case-insensitively as substrings; -domain matches a
  recipient's domain or its subdomains; DATE is YYYY-MM-DD or RFC 3339.
  Talks to the running gateway over its admin socket.`

// sentCmd: `sendguard sent find` searches the sent-mail record.
func sentCmd(args []string) error {
	c := newCommand("sent", sentUsage)
	cfgPath := c.configFlag()
	f := map[string]*string{}
	for _, name := range []string{"sender", "recipient", "domain", "subject", "detector", "since", "until"} {
		f[name] = c.fs.String(name, "", "only messages matching this "+name)
	}
	limit := c.fs.Int("limit", 100, "at most this many messages")
	asJSON := c.fs.Bool("json", false, "print JSON")
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "find" && args[0] != "show" {
		c.printUsage(os.Stderr)
		return usageError("unknown sent subcommand %q", args[0])
	}
	c.fs.Init("sent "+args[0], c.fs.ErrorHandling())
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if args[0] == "show" {
		return sentShow(c, *cfgPath, pos, *asJSON)
	}
	if len(pos) != 0 || *limit < 1 || *limit > sent.MaxLimit {
		c.printUsage(os.Stderr)
		return usageError("sent find takes no arguments and -limit between 1 and %d", sent.MaxLimit)
	}
	v := url.Values{}
	for name, p := range f {
		if *p != "" {
			v.Set(name, *p)
		}
	}
	v.Set("limit", fmt.Sprint(*limit))
	if _, err := sent.ParseQuery(v.Get); err != nil {
		return usageError("%v", err)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket)).do("GET", "/v1/sent?"+v.Encode())
	if err != nil {
		return err
	}
	var res sent.FindResult
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Records)
	}
	printSent(os.Stdout, res, cfg.Location())
	return nil
}

func printSent(w io.Writer, res sent.FindResult, loc *time.Location) {
	if len(res.Records) == 0 {
		fmt.Fprintf(w, "no delivered message matches (records are kept %s)\n", res.Retention)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDELIVERED\tSENDER\tRECIPIENTS\tPEOPLE\tFINDINGS\tSUBJECT")
	for _, r := range res.Records {
		var dets []string
		for _, f := range r.Findings {
			if !strings.Contains(strings.Join(dets, ","), f.Detector) {
				dets = append(dets, f.Detector)
			}
		}
		rc := r.Delivered()
		rcpts := strings.Join(rc, ",")
		if len(rc) > 2 {
			rcpts = fmt.Sprintf("%s,… (%d)", strings.Join(rc[:2], ","), len(rc))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.DeliveredAt.In(loc).Format(cliTime), r.MailFrom, rcpts,
			r.People, dash(strings.Join(dets, ",")), oneLineCLI(r.Subject))
	}
	tw.Flush()
}

func oneLineCLI(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// sentShow prints one message's sent record and incident state; a message
// outside the retention gets the store's "no record" answer.
func sentShow(c *command, cfgPath string, pos []string, asJSON bool) error {
	if len(pos) != 1 {
		c.printUsage(os.Stderr)
		return usageError("sent show takes one message ID")
	}
	if err := checkName("message ID", pos[0]); err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket)).do("GET", "/v1/sent/"+url.PathEscape(pos[0]))
	if err != nil {
		return err
	}
	if asJSON {
		_, err := os.Stdout.Write(body)
		return err
	}
	var v struct {
		Record   *sent.Record   `json:"record"`
		Incident *sent.Incident `json:"incident"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Record == nil {
		return fmt.Errorf("admin API: %v", err)
	}
	loc := cfg.Location()
	r := v.Record
	w := os.Stdout
	fmt.Fprintf(w, "%s  delivered %s\n  from: %s\n  subject: %s\n", r.ID, r.DeliveredAt.In(loc).Format(cliTime), r.MailFrom, oneLineCLI(r.Subject))
	for _, rc := range r.Rcpts {
		fmt.Fprintf(w, "  rcpt: %s %s %d %s\n", rc.Addr, rc.Status, rc.Code, oneLineCLI(rc.Reply))
	}
	fmt.Fprintf(w, "  people: %d (%s)\n", r.People, strings.Join(r.DataItems, ", "))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  finding: %s %d in %s\n", f.Detector, f.Count, f.Location)
	}
	for _, a := range r.Attachments {
		fmt.Fprintf(w, "  attachment: %s %d bytes sha256:%s\n", a.Name, a.Size, a.SHA256)
	}
	fmt.Fprintf(w, "  decision: %s\n", dash(strings.Join(r.Actions, ", ")))
	if in := v.Incident; in != nil {
		fmt.Fprintf(w, "  incident: opened %s by %s; %d link(s) revoked; %d deletion request(s), %d confirmed\n",
			in.OpenedAt.In(loc).Format(cliTime), in.OpenedBy, in.LinksRevoked, len(in.Requests), in.Confirmed())
	}
	return nil
}
