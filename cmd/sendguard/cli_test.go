package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the binary with stdin closed and returns stdout, stderr and
// the exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(sendguardBin(t), args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// Every command answers -h and --help with its usage on stdout and
// status 0, and does nothing else (no prompt, no user named "-h").
func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"}, {"help", "queue"},
		{"queue", "-h"}, {"queue", "--help"}, {"queue", "list", "-h"}, {"queue", "show", "--help"},
		{"queue", "release", "-h"}, {"queue", "reject", "-h"},
		{"user", "-h"}, {"user", "add", "-h"}, {"user", "add", "--help"}, {"user", "list", "-h"}, {"user", "delete", "-h"},
		{"audit", "-h"}, {"audit", "verify", "-h"},
		{"config", "-h"}, {"config", "check", "-h"},
		{"passwd-hash", "-h"}, {"passwd-hash", "--help"},
		{"serve", "-h"}, {"check", "-h"},
		{"directory", "-h"}, {"directory", "status", "-h"}, {"directory", "lookup", "--help"},
		{"db", "-h"}, {"db", "migrate", "-h"}, {"db", "status", "--help"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		if !strings.Contains(strings.ToLower(out+errOut), "usage") {
			t.Errorf("%v: no usage:\n%s%s", args, out, errOut)
		}
		if strings.Contains(errOut, "password:") || strings.Contains(errOut, "help requested") {
			t.Errorf("%v: %s", args, errOut)
		}
	}
}

// Usage mistakes exit 2 with a message that says what is wrong; nothing
// reaches the gateway (none is running here).
func TestCLIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"queue"}, "a subcommand is required"},
		{[]string{"queue", "frob"}, `unknown queue command "frob"`},
		{[]string{"queue", "list", "-state", "hold"}, `-state "hold": want one of queued, held`},
		{[]string{"queue", "list", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"queue", "show"}, "takes one message ID"},
		{[]string{"queue", "reject", "X1"}, "queue reject needs -reason"},
		{[]string{"queue", "release", "--", "-x"}, "cannot start with '-'"},
		{[]string{"user"}, "a subcommand is required"},
		{[]string{"user", "add"}, "takes one NAME"},
		{[]string{"user", "add", "--", "-h"}, `"-h" is not a valid user name`},
		{[]string{"user", "frob", "x"}, `unknown user command "frob"`},
		{[]string{"config"}, "a subcommand is required"},
		{[]string{"config", "check"}, "takes one FILE"},
		{[]string{"passwd-hash", "extra"}, "takes no arguments"},
		{[]string{"audit", "frob"}, `unknown audit command "frob"`},
		{[]string{"directory"}, "a subcommand is required"},
		{[]string{"db"}, "a subcommand is required"},
		{[]string{"db", "frob"}, `unknown db command "frob"`},
		{[]string{"db", "status", "x"}, "db status takes no arguments"},
		{[]string{"db", "import"}, "-from DATA_DIR goes with db import"},
		{[]string{"directory", "frob"}, `unknown directory command "frob"`},
		{[]string{"directory", "lookup"}, "directory lookup takes one address"},
		{[]string{"directory", "status", "x"}, "directory status takes no arguments"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
}

// config check fails exactly when serve would: a policy that does not
// compile, a type error naming its key.
func TestConfigCheckCompilesThePolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badPolicy := write("bad-policy.yaml", "rules:\n  - name: broken\n    when: 'recipients.nonexistent > 0'\n    actions: [hold_review]\n    reason: x\n")
	goodPolicy := write("policy.yaml", "rules:\n  - name: all\n    when: 'true'\n    actions: [deliver]\n")
	for _, tc := range []struct {
		name, cfg, want string
		code            int
	}{
		{"ok", "internal_domains: [example.com]\npolicy: " + goodPolicy + "\n", "ok", 0},
		{"bad policy", "internal_domains: [example.com]\npolicy: " + badPolicy + "\n", "broken", 1},
		{"type error", "smtp:\n  max_recipients: lots\n", "smtp.max_recipients", 1},
		{"bad zone", "time_zone: Mars/Olympus\n", "time_zone", 1},
	} {
		out, errOut, code := runCLI(t, "config", "check", write(tc.name+".yaml", tc.cfg))
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s%s", tc.name, code, tc.code, tc.want, out, errOut)
		}
	}
}
