// Command sendguard is an SMTP outbound gateway that stops mis-sent mail
// before it leaves the company.
//
//	sendguard serve [-config FILE]          run the gateway (embedded demo config without -config)
//	sendguard check [-config FILE] [-json] [-reveal] [-from ADDR] [-rcpt ADDR]... FILE.eml...
//	sendguard queue list|show|history|release|reject|retry|delete ...
//	sendguard user add|passwd|totp-reset|list|disable|enable|delete ...
//	sendguard audit verify [-config FILE]
//	sendguard config check FILE
//	sendguard db migrate|status|import [-from DATA_DIR] [-config FILE]
//	sendguard policy replay -policy NEW.yaml [-since 14d] [-json]
//	sendguard policy stats [-weeks 8] [-json]
//	sendguard policy baseline [-json] SENDER
//	sendguard reload [-config FILE]         reload the running gateway's configuration (as SIGHUP)
//	sendguard dkim keygen [-type rsa|ed25519] [-bits N] [-out FILE] DOMAIN SELECTOR
//	sendguard passwd-hash                   read a password on stdin, print a bcrypt hash
//	sendguard version
//
// Every command answers -h and --help with its usage on stdout and exit
// status 0; a usage mistake exits 2, a failure 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	_ "time/tzdata" // time_zone works on hosts without a zone database

	"github.com/sendguard/sendguard/rules/extract"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// First: a re-executed PDF extraction worker serves its one file and
	// exits here, before any flag parsing or configuration.
	extract.ServeWorker()
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	os.Exit(exitCode(dispatch(os.Args[1], os.Args[2:])))
}

func dispatch(cmd string, args []string) error {
	switch cmd {
	case "serve":
		return serve(args)
	case "check":
		os.Exit(runCheck(args, os.Stdout, os.Stderr))
		return nil
	case "queue":
		return queueCmd(args)
	case "sent":
		return sentCmd(args)
	case "user":
		return userCmd(args)
	case "audit":
		return auditCmd(args)
	case "config":
		return configCmd(args)
	case "dkim":
		return dkimCmd(args)
	case "edm":
		return edmCmd(args)
	case "policy":
		return policyCmd(args)
	case "debug":
		return debugCmd(args)
	case "reload":
		return reloadCmd(args)
	case "directory":
		return directoryCmd(args)
	case "db":
		return dbCmd(args)
	case "passwd-hash":
		return passwdHash(args)
	case "version", "-version", "--version":
		fmt.Println("sendguard", version)
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && args[0] != "help" && !strings.HasPrefix(args[0], "-") {
			// "sendguard help queue" is "sendguard queue -h".
			return dispatch(args[0], []string{"-h"})
		}
		usage(os.Stdout)
		return nil
	}
	usage(os.Stderr)
	return usageError("unknown command %q", cmd)
}

// exitCode prints err and maps it to the exit status: 0 for help, 2 for
// a usage mistake, 1 for anything else.
func exitCode(err error) int {
	var ue *usageErr
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "sendguard:", err)
		return 2
	}
	fmt.Fprintln(os.Stderr, "sendguard:", err)
	return 1
}

// usageErr is a mistake in the command line (exit status 2).
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: sendguard COMMAND [OPTIONS]

  serve [-config FILE]                   run the gateway (embedded demo config without -config)
  check [-config FILE] [-json] [-reveal] [-from ADDR] [-rcpt ADDR]... FILE.eml...
                                         analyse messages offline and show the policy's decision
                                         (exit 0 deliver, 1 hold or reject, 2 error)
  queue list|show|history|release|reject|retry|delete    the running gateway's queue
  sent find [-sender S] [-recipient R] [-domain D] [-subject S] [-detector NAME] [-since DATE]
                                         search delivered messages (kept sent.retention)
  sent show ID                           one delivered message's record and incident state
  user add|passwd|totp-reset|list|disable|enable|delete  console accounts
  audit verify [-config FILE]            check the audit log's hash chain
  config check FILE                      validate a configuration file and compile its policy
  reload [-config FILE]                  reload the running gateway's policy, dictionaries, EDM,
                                         partners, approvers and certificates (as SIGHUP)
  dkim keygen [-type rsa|ed25519] [-bits 2048] [-out FILE] DOMAIN SELECTOR
                                         write a DKIM key (0600) and print its DNS TXT record
  edm import -fields LIST [-key FILE] customers.csv | edm info
                                         import the customer list for exact data match (hashes only)
  policy replay -policy NEW.yaml [-since 14d] [-json]
                                         what a candidate policy would have done to stored traffic
  policy stats [-weeks 8] [-json]        per rule and week, how holds ended (catch and noise rates)
  policy baseline [-json] SENDER         a sender's behaviour baseline as the policy sees it now
  debug pprof -cpu 10s | -heap -o FILE   profile the running gateway over its admin socket
  directory status | lookup ADDRESS      the running gateway's company directory: health, an entry
  db migrate|status|import [-from DATA_DIR] [-config FILE]
                                         the PostgreSQL of nodes sharing their held queue: schema,
                                         and a stopped single node's held mail and audit chain
  passwd-hash                            read a password on stdin, print a bcrypt hash for smtp.users
  version

"sendguard COMMAND -h" shows a command's options.
`)
}

// command is one subcommand's flag set with its usage text. Flags and
// positional arguments may come in any order ("queue show ID -json");
// "--" ends the flags.
type command struct {
	fs    *flag.FlagSet
	usage string
}

func newCommand(name, usage string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // help and errors are printed by parse
	return &command{fs: fs, usage: usage}
}

// configFlag adds the -config flag every command that talks to the
// gateway takes.
func (c *command) configFlag() *string {
	return c.fs.String("config", "", "configuration file (default: the embedded demo configuration)")
}

// parse reads args and returns the positional arguments. -h prints the
// usage on stdout and returns flag.ErrHelp; a bad flag prints it on
// stderr and returns a usage error.
func (c *command) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printUsage(os.Stdout)
				return nil, flag.ErrHelp
			}
			c.printUsage(os.Stderr)
			return nil, usageError("%s: %v", c.fs.Name(), err)
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: sendguard %s\n", c.usage)
	has := false
	c.fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\noptions:")
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
}

// help answers a command group called with no subcommand (a usage
// error) or with -h (its usage, status 0).
func (c *command) help(args []string) error {
	if len(args) == 0 {
		c.printUsage(os.Stderr)
		return usageError("%s: a subcommand is required", c.fs.Name())
	}
	c.printUsage(os.Stdout)
	return flag.ErrHelp
}

// wantsHelp reports whether args ask for help before a subcommand is
// known ("queue -h", "user --help").
func wantsHelp(args []string) bool {
	return len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help"
}

// checkName refuses a name that is an option typed in the wrong place
// ("user add -h" must not create a user "-h").
func checkName(kind, name string) error {
	if name == "" || strings.HasPrefix(name, "-") {
		return usageError("%q is not a valid %s (names cannot start with '-')", name, kind)
	}
	return nil
}
