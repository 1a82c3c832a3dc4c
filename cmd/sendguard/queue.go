package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sendguard/sendguard/gateway"
)

// queueCmd talks to the running instance over its admin socket.
func queueCmd(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: sendguard queue list|show ID|history ID|retry ID|delete ID|release ID|reject ID [-reason TEXT] [-config FILE]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("queue "+sub, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	all := fs.Bool("all", false, "list: include finished messages")
	state := fs.String("state", "", "list: only this state (queued, held, delivered, bounced, ...)")
	asJSON := fs.Bool("json", false, "list: print JSON")
	reason := fs.String("reason", "", "release/reject: the reason recorded in the audit log")
	// Accept flags before or after the ID.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	c := adminClient(filepath.Join(cfg.DataDir, gateway.AdminSocket))
	needID := func() (string, error) {
		if len(pos) != 1 {
			return "", fmt.Errorf("usage: sendguard queue %s ID", sub)
		}
		return url.PathEscape(pos[0]), nil
	}
	switch sub {
	case "list":
		q := url.Values{}
		if *all {
			q.Set("all", "1")
		}
		if *state != "" {
			q.Set("state", *state)
		}
		var list []gateway.Summary
		body, err := c.do("GET", "/v1/queue?"+q.Encode())
		if err != nil {
			return err
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tRECEIVED\tFROM\tRCPTS\tPENDING\tSIZE\tTRIES\tNEXT/ERROR")
		for _, s := range list {
			next := ""
			if !s.NextAttempt.IsZero() && s.State == "queued" {
				next = s.NextAttempt.Local().Format("15:04:05")
			}
			if s.LastError != "" {
				next += " " + s.LastError
			}
			from := s.MailFrom
			if from == "" {
				from = "<>"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", s.ID, s.State,
				s.ReceivedAt.Local().Format(time.DateTime), from, s.Rcpts, s.Pending, s.Size, s.Attempts, next)
		}
		tw.Flush()
		fmt.Printf("%d message(s)\n", len(list))
		return nil
	case "show":
		id, err := needID()
		if err != nil {
			return err
		}
		body, err := c.do("GET", "/v1/queue/"+id)
		if err != nil {
			return err
		}
		os.Stdout.Write(body)
		return nil
	case "history":
		id, err := needID()
		if err != nil {
			return err
		}
		body, err := c.do("GET", "/v1/hold/"+id+"/events")
		if err != nil {
			return err
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
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Local().Format(time.DateTime),
				e.Actor.Name, e.Actor.Role, e.Actor.IP, e.Action, state, e.Reason)
		}
		return tw.Flush()
	case "release", "reject":
		id, err := needID()
		if err != nil {
			return err
		}
		body, err := c.do("POST", "/v1/hold/"+id+"/"+sub+"?reason="+url.QueryEscape(*reason))
		if err != nil {
			return err
		}
		os.Stdout.Write(body)
		return nil
	case "retry", "delete":
		id, err := needID()
		if err != nil {
			return err
		}
		method, path := "POST", "/v1/queue/"+id+"/retry"
		if sub == "delete" {
			method, path = "DELETE", "/v1/queue/"+id
		}
		body, err := c.do(method, path)
		if err != nil {
			return err
		}
		os.Stdout.Write(body)
		return nil
	}
	return fmt.Errorf("unknown queue command %q", sub)
}

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

// doJSON sends body (if not nil) as JSON.
func (a *admin) doJSON(method, path string, body any) ([]byte, error) {
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
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("admin API: %s", resp.Status)
	}
	return out, nil
}

// auditCmd: `sendguard audit verify` checks the running instance's audit
// hash chain.
func auditCmd(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: sendguard audit verify [-config FILE]")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, gateway.AdminSocket)).do("GET", "/v1/audit/verify")
	if err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	os.Stdout.Write(body)
	return nil
}
