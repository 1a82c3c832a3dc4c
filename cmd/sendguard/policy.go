package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/reports"
	"github.com/sendguard/sendguard/rules/policy"
)

const policyUsage = `policy replay -policy NEW.yaml [-since 14d] [-json] [-config FILE]
       sendguard policy stats [-weeks 8] [-json] [-config FILE]
       sendguard policy baseline [-json] [-config FILE] SENDER

replay: run a candidate policy over the analysis reports the running gateway
stored (reports.retention) and show, per rule, which messages would change
action and the daily hold volume before and after. Nothing is enforced.

stats: per rule and week, what became of the holds (cancelled or sent
changed by the sender: likely catches; confirmed unchanged: possible
noise; released, rejected, expired) from the audit log.

baseline: what the sender's behaviour baseline says now (usual hours,
volumes per hour and day), as the sender.* policy helpers see it.`

// policyCmd: `sendguard policy replay` reads the stored reports over the
// admin socket. The gateway keeps its database open exclusively (bbolt's
// file lock), so the socket is what lets a team replay against live
// traffic without stopping mail; the stream carries the compact records,
// not JSON, so 100,000 reports are a few tens of megabytes.
func policyCmd(args []string) error {
	c := newCommand("policy", policyUsage)
	if wantsHelp(args) {
		return c.help(args)
	}
	switch args[0] {
	case "replay":
	case "stats":
		return policyStats(c, args[1:])
	case "baseline":
		return policyBaseline(c, args[1:])
	default:
		c.printUsage(os.Stderr)
		return usageError("unknown policy command %q", args[0])
	}
	cfgPath := c.configFlag()
	polPath := c.fs.String("policy", "", "the candidate policy file (required)")
	since := c.fs.String("since", "14d", "how far back: a duration such as 14d, 36h or 90m")
	asJSON := c.fs.Bool("json", false, "print the result as JSON")
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || *polPath == "" {
		c.printUsage(os.Stderr)
		return usageError("policy replay needs -policy FILE and no arguments")
	}
	window, err := parseSince(*since)
	if err != nil {
		c.printUsage(os.Stderr)
		return usageError("-since: %v", err)
	}
	pol, err := policy.Load(*polPath)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	now := time.Now()
	from := now.Add(-window)
	rp := reports.NewReplay(pol, from, now)
	corrupt, err := fetchReports(filepath.Join(cfg.DataDir, adminapi.AdminSocket), from, func(r *reports.Report) error {
		rp.Add(r)
		return nil
	})
	if err != nil {
		return err
	}
	if corrupt > 0 {
		fmt.Fprintf(os.Stderr, "sendguard: %d stored reports could not be read and were skipped\n", corrupt)
	}
	res := rp.Result()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printReplay(os.Stdout, res, cfg.Location())
	return nil
}

// parseSince reads a duration, with d for days.
func parseSince(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (14d, 36h, 90m)", s)
	}
	return d, nil
}

// fetchReports streams the stored reports since from the running gateway.
func fetchReports(sock string, since time.Time, fn func(*reports.Report) error) (int, error) {
	hc := adminClient(sock).hc
	hc.Timeout = 10 * time.Minute // the whole stream; the socket is local
	resp, err := hc.Get("http://sendguard/v1/reports?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339)))
	if err != nil {
		return 0, fmt.Errorf("cannot reach the running sendguard (is it running with this config?): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("admin API: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return reports.ReadStream(resp.Body, fn)
}

func printReplay(w io.Writer, res reports.Result, loc *time.Location) {
	if loc == nil {
		loc = time.Local
	}
	fmt.Fprintf(w, "%d stored reports from %s to %s (%.1f days)\n", res.Reports,
		res.Since.In(loc).Format("2006-01-02 15:04"), res.Until.In(loc).Format("2006-01-02 15:04"), res.Days)
	fmt.Fprintf(w, "held per day: %.1f now, %.1f with the candidate (%d → %d messages)\n",
		res.OldHoldsPerDay, res.NewHoldsPerDay, res.OldHolds, res.NewHolds)
	for _, sc := range res.Shadow {
		fmt.Fprintf(w, "shadow rule %s matched %d messages live (%d it would have held)\n", sc.Rule, sc.Matches, sc.Holds)
	}
	if res.Errors > 0 {
		fmt.Fprintf(w, "a candidate condition failed on %d messages (counted as matched)\n", res.Errors)
	}
	if res.Changed == 0 {
		fmt.Fprintln(w, "no message changes action")
		return
	}
	fmt.Fprintf(w, "messages that change action: %d\n", res.Changed)
	for _, c := range res.Changes {
		rule := "rule " + c.Rule
		if c.Live {
			rule = "no candidate rule (live: " + c.Rule + ")"
		}
		fmt.Fprintf(w, "\n  %s: %s → %s  %d\n", rule, c.From, c.To, c.Count)
		for _, e := range c.Examples {
			fmt.Fprintf(w, "    %s  %s  %s\n", e.QueueID, e.Time.In(loc).Format("2006-01-02 15:04"), e.Sender)
		}
	}
}

// purgeReports deletes reports older than retention every interval until
// ctx ends; each purge that deletes something is an audit event.
func purgeReports(ctx context.Context, rs reportPurger, audit auditChain, retention, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-retention)
		n, err := rs.Purge(ctx, cutoff)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("purge stored reports", "err", err)
		}
		if n > 0 {
			log.Info("purged stored reports", "count", n)
			_, err := audit.AppendEvent(context.WithoutCancel(ctx), hold.Event{Actor: hold.System, Action: "reports_purged",
				Reason: fmt.Sprintf("%d analysis reports accepted before %s (reports.retention)", n, cutoff.UTC().Format(time.RFC3339))})
			if err != nil {
				log.Error("audit report purge", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// policyStats: `sendguard policy stats` asks the running gateway for the
// hold outcomes per rule and week.
func policyStats(c *command, args []string) error {
	cfgPath := c.configFlag()
	weeks := c.fs.Int("weeks", 8, "how many weeks back, the current one included")
	asJSON := c.fs.Bool("json", false, "print the result as JSON")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *weeks < 1 || *weeks > 520 {
		c.printUsage(os.Stderr)
		return usageError("policy stats takes no arguments and -weeks between 1 and 520")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket)).do("GET", "/v1/policy/stats?weeks="+strconv.Itoa(*weeks))
	if err != nil {
		return err
	}
	var rows []reports.RuleWeek
	if err := json.Unmarshal(body, &rows); err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	printStats(os.Stdout, rows, cfg.Location())
	return nil
}

// statsColumns are the outcome columns, in the order printed.
var statsColumns = []string{reports.OutcomeCancelled, reports.OutcomeEdited, reports.OutcomeConfirmed, reports.OutcomeReleased,
	reports.OutcomeRejected, reports.OutcomeExpired, reports.OutcomeElapsed, reports.OutcomeDeleted, reports.OutcomePending}

func printStats(w io.Writer, rows []reports.RuleWeek, loc *time.Location) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no holds in this period")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "RULE\tWEEK\tHOLDS\tCATCH\tNOISE")
	for _, c := range statsColumns {
		fmt.Fprint(tw, "\t", strings.ToUpper(c))
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s", r.Rule, r.Week.In(loc).Format("2006-01-02"), r.Holds, rate(r.CatchRate, r), rate(r.NoiseRate, r))
		for _, c := range statsColumns {
			fmt.Fprintf(tw, "\t%d", r.Counts[c])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "\ncatch: cancelled, edited or rejected; noise: confirmed unchanged or released; both over the holds someone decided")
}

// rate prints a rate of r as a percentage, "-" when nobody decided any
// of its holds (both rates are zero only then).
func rate(v float64, r reports.RuleWeek) string {
	if r.CatchRate+r.NoiseRate == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", v*100)
}

// statsHandler serves GET /v1/policy/stats?weeks=N on the admin socket.
func statsHandler(audit reports.AuditLog, loc *time.Location) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		weeks, err := strconv.Atoi(r.URL.Query().Get("weeks"))
		if err != nil || weeks < 1 || weeks > 520 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "weeks must be between 1 and 520"})
			return
		}
		rows, err := reports.Outcomes(r.Context(), audit, reports.WeeksSince(time.Now(), weeks, loc), loc)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": "reading the audit log failed"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rows)
	})
}
