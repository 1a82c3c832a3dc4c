package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/templates"
)

const queueUsage = `queue SUBCOMMAND [-config FILE]

  queue list [-all] [-state STATE] [-json]    messages with subject, sender, rule, action and age
  queue show ID [-json]                       one message in full
  queue history ID                            who decided what, when, from where
  queue release ID [-reason TEXT]             send a held message (the reason is mailed to the sender)
  queue reject ID -reason TEXT                refuse a held message; the reason is mailed to the sender
  queue retry ID                              try a queued message again now
  queue delete ID                             drop a message without a bounce

STATE is one of: ` + "queued, held, delivered, bounced, expired, rejected, cancelled" + `.
Talks to the running gateway over its admin socket.`

// queueStates are the states -state accepts (spool.State values).
var queueStates = []string{"queued", "held", "delivered", "bounced", "expired", "rejected", "cancelled"}

// cliTime is how the CLI writes times: in time_zone, with the zone.
const cliTime = "2006-01-02 15:04:05 MST"

// queueCmd talks to the running instance over its admin socket.
func queueCmd(args []string) error {
	c := newCommand("queue", queueUsage)
	cfgPath := c.configFlag()
	all := c.fs.Bool("all", false, "list: include finished messages")
	state := c.fs.String("state", "", "list: only this state ("+strings.Join(queueStates, ", ")+")")
	asJSON := c.fs.Bool("json", false, "list, show: print JSON")
	reason := c.fs.String("reason", "", "release, reject: the reason mailed to the sender and kept in the audit log (required to reject)")
	if wantsHelp(args) {
		return c.help(args)
	}
	sub := args[0]
	c.fs.Init("queue "+sub, c.fs.ErrorHandling())
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	needID := func() (string, error) {
		if len(pos) != 1 {
			c.printUsage(os.Stderr)
			return "", usageError("queue %s takes one message ID", sub)
		}
		if err := checkName("message ID", pos[0]); err != nil {
			return "", err
		}
		return pos[0], nil
	}
	var id string
	switch sub {
	case "list":
		if *state != "" && !slices.Contains(queueStates, *state) {
			return usageError("-state %q: want one of %s", *state, strings.Join(queueStates, ", "))
		}
		if len(pos) != 0 {
			return usageError("queue list takes no arguments")
		}
	case "show", "history", "release", "reject", "retry", "delete":
		if id, err = needID(); err != nil {
			return err
		}
		if sub == "reject" && strings.TrimSpace(*reason) == "" {
			return usageError("queue reject needs -reason TEXT (it is mailed to the sender)")
		}
	default:
		c.printUsage(os.Stderr)
		return usageError("unknown queue command %q", sub)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	a := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	eid := url.PathEscape(id)
	switch sub {
	case "list":
		q := url.Values{}
		if *all {
			q.Set("all", "1")
		}
		if *state != "" {
			q.Set("state", *state)
		}
		body, err := a.do("GET", "/v1/queue?"+q.Encode())
		if err != nil {
			return err
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		var list []adminapi.Summary
		if err := json.Unmarshal(body, &list); err != nil {
			return err
		}
		printQueue(os.Stdout, list, time.Now(), loc)
		return nil
	case "show":
		body, err := a.do("GET", "/v1/queue/"+eid)
		if err != nil {
			return err
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		var rec spool.Record
		if err := json.Unmarshal(body, &rec); err != nil {
			return err
		}
		printRecord(os.Stdout, &rec, time.Now(), loc)
		// The same queue ID in the console (the log's queue_id too).
		fmt.Printf("%-11s %s\n", "console:", consoleURL(cfg, rec.ID))
		return nil
	case "history":
		body, err := a.do("GET", "/v1/hold/"+eid+"/events")
		if err != nil {
			return a.notHeld(id, err)
		}
		var evs []struct {
			Seq    uint64
			Time   time.Time
			Actor  struct{ Name, Role, IP string }
			Action string
			From   string
			To     string
			Mode   string
			Reason string
		}
		if err := json.Unmarshal(body, &evs); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tROLE\tIP\tACTION\tSTATE\tREASON")
		for _, e := range evs {
			state := e.To
			if e.From != "" {
				state = e.From + " → " + e.To
			}
			if e.Mode != "" {
				state += " (" + e.Mode + ")"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.In(loc).Format(cliTime),
				e.Actor.Name, e.Actor.Role, e.Actor.IP, e.Action, state, e.Reason)
		}
		return tw.Flush()
	case "release", "reject":
		body, err := a.doHeader("POST", "/v1/hold/"+eid+"/"+sub+"?reason="+url.QueryEscape(strings.TrimSpace(*reason)),
			adminapi.HeaderOSUser, osUserName())
		if err != nil {
			return a.notHeld(id, err)
		}
		return printResult(body)
	case "retry", "delete":
		method, path := "POST", "/v1/queue/"+eid+"/retry"
		if sub == "delete" {
			method, path = "DELETE", "/v1/queue/"+eid
		}
		body, err := a.do(method, path)
		if err != nil {
			return err
		}
		return printResult(body)
	}
	return nil
}

// notHeld turns the hold store's "record not found" into what happened:
// the message is not held (and in which state it is), or does not exist.
func (a *admin) notHeld(id string, err error) error {
	var nf *notFoundError
	if !errors.As(err, &nf) {
		return err
	}
	body, gerr := a.do("GET", "/v1/queue/"+url.PathEscape(id))
	if gerr != nil {
		return fmt.Errorf("no message %s", id)
	}
	var rec struct{ State string }
	if json.Unmarshal(body, &rec) == nil && rec.State != "" {
		return fmt.Errorf("message %s is not held (it is %s)", id, rec.State)
	}
	return err
}

func printResult(body []byte) error {
	var out map[string]string
	if json.Unmarshal(body, &out) == nil && out["id"] != "" && out["result"] != "" {
		fmt.Printf("%s: %s\n", out["id"], out["result"])
		return nil
	}
	_, err := os.Stdout.Write(body)
	return err
}

// osUserName is the OS account running the CLI, for the audit log.
func osUserName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func printQueue(w io.Writer, list []adminapi.Summary, now time.Time, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGE\tFROM\tSUBJECT\tRULE\tACTION\tRCPTS\tNEXT/ERROR")
	for _, s := range list {
		next := ""
		if !s.NextAttempt.IsZero() && s.State == "queued" {
			next = s.NextAttempt.In(loc).Format("15:04:05 MST")
		}
		if s.LastError != "" {
			next += " " + s.LastError
		}
		from := s.MailFrom
		if from == "" {
			from = "<>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", s.ID, s.State, age(now.Sub(s.ReceivedAt)), from,
			clip(templates.OneLine(s.Subject), 40), dash(strings.Join(s.Rules, ",")), dash(strings.Join(s.Actions, ",")),
			s.Rcpts-s.Pending, s.Rcpts, clip(templates.OneLine(next), 60))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d message(s)\n", len(list))
}

// printRecord is `queue show` for people: the envelope, the decision and
// each recipient's status, without the stored report.
func printRecord(w io.Writer, r *spool.Record, now time.Time, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	tm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(cliTime)
	}
	var dec struct {
		Actions, Rules []string
		Reasons        []struct{ JA, EN string }
	}
	_ = json.Unmarshal(r.Decision, &dec)
	row("ID", r.ID)
	row("State", string(r.State))
	row("Subject", templates.OneLine(r.Subject))
	row("From", dash(r.MailFrom))
	row("Received", tm(r.ReceivedAt)+" ("+age(now.Sub(r.ReceivedAt))+" ago) from "+dash(r.ClientIP))
	row("Size", templates.FormatSize(r.Size))
	row("Rules", strings.Join(dec.Rules, ", "))
	row("Actions", strings.Join(dec.Actions, ", "))
	for _, re := range dec.Reasons {
		row("Reason", templates.OneLine(cmp.Or(re.EN, re.JA)))
	}
	row("Applied", strings.Join(r.Applied, ", "))
	row("Attempts", strconv.Itoa(r.Attempts))
	if r.State == spool.StateQueued {
		row("Next attempt", tm(r.NextAttempt))
	}
	row("Expires", tm(r.Expires))
	row("Finished", tm(r.FinishedAt))
	row("Last error", templates.OneLine(r.LastError))
	tw.Flush()
	fmt.Fprintf(w, "Recipients (%d):\n", len(r.Rcpts))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, rc := range r.Rcpts {
		reply := ""
		if rc.Code != 0 {
			reply = strings.TrimSpace(fmt.Sprintf("%d %s %s", rc.Code, rc.Enhanced, rc.Message))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", rc.Addr, dash(string(rc.Status)), templates.OneLine(reply), tm(rc.Updated))
	}
	tw.Flush()
}

// age writes a duration the way a queue listing needs it: 45s, 12m, 3h, 2d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func dash(s string) string { return cmp.Or(s, "-") }

type admin struct {
	hc *http.Client
}

func adminClient(sock string) *admin {
	return &admin{hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}}
}

func (a *admin) do(method, path string) ([]byte, error) { return a.doJSON(method, path, nil) }

// doHeader is do with one request header.
func (a *admin) doHeader(method, path, key, value string) ([]byte, error) {
	return a.send(method, path, nil, key, value)
}

// notFoundError is the admin API's 404.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// doJSON sends body (if not nil) as JSON.
func (a *admin) doJSON(method, path string, body any) ([]byte, error) {
	return a.send(method, path, body, "", "")
}

func (a *admin) send(method, path string, body any, hkey, hval string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://sendguard"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if hkey != "" && hval != "" {
		req.Header.Set(hkey, hval)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the running sendguard (is it running with this config?): %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(out, &e) == nil && e.Error != "" {
			if resp.StatusCode == http.StatusNotFound {
				return nil, &notFoundError{e.Error}
			}
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("admin API: %s", resp.Status)
	}
	return out, nil
}

// auditCmd: `sendguard audit verify` checks the running instance's audit
// hash chain.
func auditCmd(args []string) error {
	c := newCommand("audit", "audit verify [-config FILE]\n\nCheck the running gateway's audit log: every event's hash chains to the one before.")
	cfgPath := c.configFlag()
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "verify" {
		c.printUsage(os.Stderr)
		return usageError("unknown audit command %q", args[0])
	}
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("audit verify takes no arguments")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket)).do("GET", "/v1/audit/verify")
	if err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	os.Stdout.Write(body)
	return nil
}

// consoleURL is the console page of queue ID id.
func consoleURL(cfg *config.Config, id string) string {
	return strings.TrimSuffix(cfg.Web.BaseURL, "/") + "/console/msg/" + url.PathEscape(id)
}
