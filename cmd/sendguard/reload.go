package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/rules/profile"
)

// reloadCmd: `sendguard reload` asks the running gateway to reload its
// configuration, as SIGHUP does, and prints the outcome.
func reloadCmd(args []string) error {
	c := newCommand("reload", "reload [-config FILE]\n\nReload the running gateway's configuration file (the one serve was started with):\n"+
		"policy, dictionaries, patterns, allowed values, EDM index, partners, per-domain\n"+
		"protection profiles, approvers and TLS certificates are replaced together. A file\n"+
		"with errors is refused, every error is printed with its key and line, and the running configuration stays in force\n"+
		"(exit status 1). Changed settings that need a restart are named.\n"+
		"-config only locates the running gateway's admin socket (data_dir).")
	cfgPath := c.configFlag()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		c.printUsage(os.Stderr)
		return usageError("reload takes no arguments (did you mean -config %s?)", pos[0])
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		// The file may be the broken one being reloaded; the gateway
		// reports on it itself, so only data_dir matters here.
		var ce *config.Error
		if !errors.As(err, &ce) || *cfgPath == "" {
			return err
		}
		if cfg, err = dataDirOnly(*cfgPath); err != nil {
			return err
		}
	}
	a := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	body, err := a.doHeader("POST", "/v1/reload", adminapi.HeaderOSUser, osUserName())
	if err != nil {
		return err
	}
	var rep adminapi.ReloadReport
	if err := json.Unmarshal(body, &rep); err != nil {
		return fmt.Errorf("reload: unexpected answer: %w", err)
	}
	printReload(os.Stdout, os.Stderr, rep)
	if !rep.OK {
		return errors.New("reload refused; the running configuration stays in force")
	}
	return nil
}

// dataDirOnly reads data_dir from a file that does not validate.
func dataDirOnly(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v struct {
		DataDir string `yaml:"data_dir"`
	}
	if err := yaml.Unmarshal(data, &v); err != nil || v.DataDir == "" {
		return nil, fmt.Errorf("%s: cannot find data_dir (the admin socket's directory)", path)
	}
	cfg := config.Defaults()
	cfg.DataDir = v.DataDir
	return &cfg, nil
}

func printReload(stdout, stderr io.Writer, rep adminapi.ReloadReport) {
	if !rep.OK {
		fmt.Fprintf(stderr, "reload refused: %d error(s); the running configuration stays in force\n", len(rep.Errors))
		for _, p := range rep.Errors {
			fmt.Fprintln(stderr, "  "+p.String())
		}
		return
	}
	fmt.Fprintf(stdout, "reloaded: policy %s (%d rules)\n", rep.Policy, rep.Rules)
	if len(rep.Changed) > 0 {
		fmt.Fprintf(stdout, "changed: %s\n", strings.Join(rep.Changed, ", "))
	}
	if len(rep.RestartNeeded) > 0 {
		fmt.Fprintf(stdout, "restart needed for: %s\n", strings.Join(rep.RestartNeeded, ", "))
	}
}

// unit is what a reload replaces as a whole: the analysis with its
// policy, dictionaries, patterns, allowed values, EDM index and partner
// directory, the per-domain protection profiles, the approvers, and the
// certificates. It is built completely
// before anything running changes.
type unit struct {
	cfg      *config.Config
	rules    *inspect.Inspector
	policy   *policy.Policy
	smtpCert *tls.Certificate // nil without smtp.tls
	webCert  *tls.Certificate // nil without web.tls
	profiles *profile.Table   // encrypt.domains, encrypt.require_tls_domains, partners[].profile
	live     *liveUnit        // directory, DKIM signer, SSO mapping
}

func buildUnit(cfg *config.Config, hist interface{ Known(string) bool }, tmp string) (*unit, error) {
	u := &unit{cfg: cfg}
	var err error
	if u.rules, u.policy, err = newRulesInspectorIn(cfg, false, hist, tmp); err != nil {
		return nil, err
	}
	if u.profiles, err = cfg.Profiles(); err != nil {
		return nil, err
	}
	if cfg.SMTP.TLS.Cert != "" {
		c, err := config.LoadCertificate(cfg.SMTP.TLS)
		if err != nil {
			return nil, fmt.Errorf("smtp.tls: %w", err)
		}
		u.smtpCert = &c
	}
	if cfg.Web.TLS.Cert != "" {
		c, err := config.LoadCertificate(cfg.Web.TLS)
		if err != nil {
			return nil, fmt.Errorf("web.tls: %w", err)
		}
		u.webCert = &c
	}
	return u, nil
}

// liveKeys are the settings a reload applies. Every other key keeps its
// running value until a restart, and the reply names it when it changed.
var liveKeys = map[string]bool{
	"policy": true, "partner_domains": true, "partners": true, "detect": true, "edm": true, "encrypt.domains": true, "encrypt.require_tls_domains": true,
	"extraction": true, "hold.approvers": true, "hold.approvals_required": true, "hold.deputies": true, "hold.absent": true, "allowances": true, "directory": true, "dkim": true,
	"console.oidc.roles": true, "console.oidc.groups_claim": true, "console.oidc.username_claim": true, "smtp.tls": true, "web.tls": true, "log.level": true,
}

// mergeLive is the configuration a reload runs with: the running one
// with the live keys of next. It lists the live keys that changed and the
// other keys that differ (they need a restart).
func mergeLive(running, next *config.Config) (eff *config.Config, changed, restart []string) {
	e := *running
	walkKeys(reflect.ValueOf(&e).Elem(), reflect.ValueOf(next).Elem(), "", &changed, &restart)
	// Turning TLS on or off changes what the listeners offer (STARTTLS,
	// HTTPS): only a restart does that.
	for _, k := range []struct {
		key      string
		run, nxt *config.TLS
		dst      *config.TLS
	}{{"smtp.tls", &running.SMTP.TLS, &next.SMTP.TLS, &e.SMTP.TLS}, {"web.tls", &running.Web.TLS, &next.Web.TLS, &e.Web.TLS}} {
		if (k.run.Cert == "") != (k.nxt.Cert == "") {
			*k.dst = *k.run
			changed = slices.DeleteFunc(changed, func(c string) bool { return c == k.key })
			restart = append(restart, k.key)
		}
	}
	return &e, changed, restart
}

// configPkg is where the sections of the configuration are declared;
// other structs (of other packages) are values, compared whole.
var configPkg = reflect.TypeOf(config.Config{}).PkgPath()

func walkKeys(run, next reflect.Value, prefix string, changed, restart *[]string) {
	t := run.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		rf, nf := run.Field(i), next.Field(i)
		same := reflect.DeepEqual(rf.Interface(), nf.Interface())
		switch {
		case liveKeys[key]:
			if !same {
				rf.Set(nf)
				*changed = append(*changed, key)
			}
		case same:
		case rf.Kind() == reflect.Struct && rf.Type().PkgPath() == configPkg:
			walkKeys(rf, nf, key+".", changed, restart)
		default:
			*restart = append(*restart, key)
		}
	}
}

// reloader serialises reloads and remembers the configuration in force.
type reloader struct {
	path  string // "" for the embedded configuration
	build func(*config.Config) (*unit, error)
	apply func(*unit)
	audit func(ctx context.Context, e hold.Event) error
	log   *slog.Logger

	mu  sync.Mutex
	cur *config.Config
}

// reload reads the file again, builds the whole new unit and swaps it in;
// on any error nothing changes.
func (r *reloader) reload(ctx context.Context, actor hold.Actor) adminapi.ReloadReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.try()
	reason := reloadSummary(rep)
	action := "config_reload"
	if !rep.OK {
		action = "config_reload_refused"
		lines := make([]string, len(rep.Errors))
		for i, p := range rep.Errors {
			lines[i] = p.String()
		}
		r.log.Error("reload refused; the running configuration stays in force", "by", actor.Name,
			"errors", len(rep.Errors), "problems", strings.Join(lines, "; "))
	} else {
		r.log.Info("configuration reloaded", "by", actor.Name, "policy", rep.Policy, "rules", rep.Rules,
			"changed", strings.Join(rep.Changed, ","), "restart_needed", strings.Join(rep.RestartNeeded, ","))
	}
	// The reload happened even if the asking CLI has gone away.
	if err := r.audit(context.WithoutCancel(ctx), hold.Event{Actor: actor, Action: action, Reason: reason}); err != nil {
		r.log.Error("audit reload", "err", err)
	}
	return rep
}

func (r *reloader) try() adminapi.ReloadReport {
	next, err := loadConfig(r.path)
	if err != nil {
		return adminapi.ReloadReport{Errors: problemsOf(err, "")}
	}
	eff, changed, restart := mergeLive(r.cur, next)
	u, err := r.build(eff)
	if err != nil {
		return adminapi.ReloadReport{Errors: problemsOf(err, eff.Policy)}
	}
	r.apply(u)
	r.cur = eff
	return adminapi.ReloadReport{OK: true, Policy: policyName(eff), Rules: len(u.policy.Rules()),
		Changed: changed, RestartNeeded: restart}
}

func policyName(cfg *config.Config) string {
	if cfg.Policy == "" {
		return "(embedded default)"
	}
	return cfg.Policy
}

// reloadSummary is the audit event's reason: what changed or why not.
func reloadSummary(rep adminapi.ReloadReport) string {
	if !rep.OK {
		keys := map[string]bool{}
		var names []string
		for _, p := range rep.Errors {
			k := p.Key
			if k == "" {
				k = p.File
			}
			if k != "" && !keys[k] {
				keys[k] = true
				names = append(names, k)
			}
		}
		return fmt.Sprintf("%d error(s) in %s", len(rep.Errors), strings.Join(names, ", "))
	}
	s := fmt.Sprintf("policy %s, %d rules", rep.Policy, rep.Rules)
	if len(rep.Changed) > 0 {
		s += "; changed: " + strings.Join(rep.Changed, ", ")
	}
	if len(rep.RestartNeeded) > 0 {
		s += "; restart needed for: " + strings.Join(rep.RestartNeeded, ", ")
	}
	return s
}

// problemsOf lists every problem an error carries with its key and line.
func problemsOf(err error, policyPath string) []adminapi.ReloadProblem {
	var ce *config.Error
	if errors.As(err, &ce) {
		out := make([]adminapi.ReloadProblem, len(ce.Problems))
		for i, p := range ce.Problems {
			out[i] = adminapi.ReloadProblem{File: ce.File, Line: p.Line, Key: p.Key, Msg: p.Msg}
		}
		return out
	}
	var pe *policy.LoadError
	if errors.As(err, &pe) {
		out := make([]adminapi.ReloadProblem, len(pe.Problems))
		for i, p := range pe.Problems {
			msg := p.Msg
			if p.Rule != "" {
				msg = fmt.Sprintf("rule %q: %s", p.Rule, msg)
			}
			out[i] = adminapi.ReloadProblem{File: cmp.Or(policyPath, p.File), Line: p.Line, Key: "policy", Msg: msg}
		}
		return out
	}
	return []adminapi.ReloadProblem{{Msg: err.Error()}}
}
