// Command sendguard is an SMTP outbound gateway that stops mis-sent mail
// before it leaves the company.
//
//	sendguard serve [-config FILE]          run the gateway (embedded demo config without -config)
//	sendguard check [-config FILE] [-json] [-reveal] FILE.eml...
//	sendguard queue list|show ID|retry ID|delete ID [-config FILE]
//	sendguard user add|passwd|totp-reset NAME [-role R] [-config FILE]
//	sendguard audit verify [-config FILE]
//	sendguard config check FILE
//	sendguard passwd-hash                   read a password on stdin, print a bcrypt hash
//	sendguard version
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(args)
	case "check":
		err = check(args)
	case "queue":
		err = queueCmd(args)
	case "user":
		err = userCmd(args)
	case "audit":
		err = auditCmd(args)
	case "config":
		err = configCmd(args)
	case "debug":
		err = debugCmd(args)
	case "passwd-hash":
		err = passwdHash()
	case "version", "-version", "--version":
		fmt.Println("sendguard", version)
	case "help", "-h", "-help", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "sendguard: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendguard:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  sendguard serve [-config FILE]         run the gateway (embedded demo config without -config)
  sendguard check [-config FILE] [-json] [-reveal] FILE.eml...
                                         analyse messages offline and show the policy's decision
  sendguard queue list [-all] [-state S] | show ID | history ID | retry ID | delete ID | release ID | reject ID [-reason R]   [-config FILE]
  sendguard user add NAME [-role R] | passwd NAME | totp-reset NAME   [-config FILE]
                                         console accounts (password on stdin; prints the TOTP enrolment URL)
  sendguard audit verify [-config FILE]  check the audit log's hash chain
  sendguard config check FILE            validate a configuration file
  sendguard debug pprof -cpu 10s | -heap -o FILE [-config FILE]
                                         profile the running gateway over its admin socket
  sendguard passwd-hash                  read a password on stdin, print a bcrypt hash for smtp.users
  sendguard version
`)
}
