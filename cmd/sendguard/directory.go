package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/directory"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/rules"
)

// newDirectory connects nothing yet: lookups start with the first message
// (or the status probe). It returns nil when no directory is configured.
func newDirectory(cfg *config.Config, log *slog.Logger) (*directory.Directory, *directory.LDAP, error) {
	if !cfg.Directory.Enabled() {
		return nil, nil, nil
	}
	d := cfg.Directory
	l := d.LDAP
	pw, err := l.ReadPassword()
	if err != nil {
		return nil, nil, err
	}
	src, err := directory.NewLDAP(directory.Config{URL: l.URL, StartTLS: l.StartTLS, CAFile: l.CAFile,
		BindDN: l.BindDN, Password: pw, BaseDN: l.BaseDN, UserFilter: l.UserFilter, GroupBaseDN: l.GroupBaseDN,
		MailAttr: l.Attributes.Mail, ManagerAttr: l.Attributes.Manager, DepartmentAttr: l.Attributes.Department,
		DisplayNameAttr: l.Attributes.DisplayName, GroupNameAttr: l.Attributes.GroupName, MemberAttr: l.Attributes.Member, DeputyAttr: l.Attributes.Deputy,
		NestedGroups: l.NestedGroups, MaxGroupDepth: l.MaxGroupDepth, MaxGroups: l.MaxGroups, PoolSize: l.PoolSize,
		DialTimeout: l.DialTimeout, RequestTimeout: l.RequestTimeout})
	if err != nil {
		return nil, nil, err
	}
	dir := directory.New(src, directory.Options{TTL: d.TTL, NegativeTTL: d.NegativeTTL, Wait: d.Wait, Retry: d.Retry,
		Approvers: d.Approvers, ApproverGroup: d.ApproverGroup, AbsentGroup: d.AbsentGroup, Log: log.With("component", "directory")})
	return dir, src, nil
}

// senderDirectory is the gateway's hook that fills the report's directory
// section before the policy runs, with the sender's group allowances (nil
// without a directory).
func senderDirectory(dir *directory.Directory, cfg *config.Config) func(ctx context.Context, sender string) *rules.SenderDirectory {
	if dir == nil {
		return nil
	}
	return func(ctx context.Context, sender string) *rules.SenderDirectory {
		return withAllowances(dir.Sender(ctx, sender).Report(), cfg)
	}
}

// withAllowances adds the allowances of the sender's groups.
func withAllowances(sd *rules.SenderDirectory, cfg *config.Config) *rules.SenderDirectory {
	if sd != nil {
		sd.Allowances = cfg.AllowancesFor(sd.Groups)
	}
	return sd
}

// directoryNotes is the console's line about the directory in force
// (none without one).
func directoryNotes(get func() *directory.Directory) func() []string {
	return func() []string {
		if dir := get(); dir != nil {
			return []string{"社内ディレクトリ / company " + dir.Status().String()}
		}
		return nil
	}
}

// directoryRoutes serves the directory's status and fresh lookups on the
// admin socket.
func directoryRoutes(mux *http.ServeMux, get func() *directory.Directory) {
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /v1/directory/status", func(w http.ResponseWriter, r *http.Request) {
		dir := get()
		if dir == nil {
			reply(w, http.StatusNotFound, map[string]string{"error": "no directory is configured (directory.ldap.url)"})
			return
		}
		reply(w, http.StatusOK, dir.Status())
	})
	mux.HandleFunc("GET /v1/directory/lookup", func(w http.ResponseWriter, r *http.Request) {
		dir := get()
		if dir == nil {
			reply(w, http.StatusNotFound, map[string]string{"error": "no directory is configured (directory.ldap.url)"})
			return
		}
		p, err := dir.Lookup(r.Context(), r.URL.Query().Get("addr"))
		switch {
		case errors.Is(err, directory.ErrNotFound):
			reply(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case err != nil:
			reply(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		default:
			reply(w, http.StatusOK, p)
		}
	})
}

const directoryUsage = `directory status [-config FILE] [-json] | directory lookup [-config FILE] ADDRESS

status: whether the running gateway reaches the directory, and its cache.
lookup: what the directory says of ADDRESS now (department, groups,
manager, defects of the entry), bypassing the cache.`

// directoryCmd is `sendguard directory`, served by the running gateway.
func directoryCmd(args []string) error {
	c := newCommand("directory", directoryUsage)
	if wantsHelp(args) {
		return c.help(args)
	}
	sub := args[0]
	if sub != "status" && sub != "lookup" {
		c.printUsage(os.Stderr)
		return usageError("unknown directory command %q", sub)
	}
	cfgPath := c.configFlag()
	asJSON := c.fs.Bool("json", false, "print JSON")
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if (sub == "status") != (len(pos) == 0) {
		return usageError("directory status takes no arguments; directory lookup takes one address")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	a := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	if sub == "lookup" {
		body, err := a.do("GET", "/v1/directory/lookup?addr="+url.QueryEscape(pos[0]))
		if err != nil {
			return err
		}
		var p directory.Person
		if err := json.Unmarshal(body, &p); err != nil {
			return err
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		fmt.Printf("dn:          %s\nmail:        %s\nname:        %s\ndepartment:  %s\ngroups:      %s\nmanager:     %s (%s)\n",
			p.DN, p.Mail, p.DisplayName, p.Department, strings.Join(p.Groups, ", "), dash(p.Manager), dash(p.ManagerDN))
		for _, pr := range p.Problems {
			fmt.Println("problem:     " + pr)
		}
		return nil
	}
	body, err := a.do("GET", "/v1/directory/status")
	if err != nil {
		return err
	}
	if *asJSON {
		os.Stdout.Write(body)
		return nil
	}
	var st directory.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return err
	}
	fmt.Println(st.String())
	return nil
}

// checkSenderDirectory looks the -from sender up for `check -config`,
// waiting for the answer (an offline command has no SMTP client waiting).
func checkSenderDirectory(cfg *config.Config, sender string) (*rules.SenderDirectory, error) {
	if sender == "" || !cfg.Directory.Enabled() {
		return nil, nil
	}
	dir, src, err := newDirectory(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	p, err := dir.Lookup(context.Background(), sender)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return &rules.SenderDirectory{Status: directory.StatusNotFound}, nil
	case err != nil:
		return &rules.SenderDirectory{Status: directory.StatusUnavailable}, err
	}
	return withAllowances(directory.Result{Status: directory.StatusFound, Person: p}.Report(), cfg), nil
}
