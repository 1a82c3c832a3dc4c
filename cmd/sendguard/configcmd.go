package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// configCmd: `sendguard config check FILE` loads the file as serve would,
// then compiles its policy and dictionaries, so "ok" means serve starts.
func configCmd(args []string) error {
	c := newCommand("config check", "config check FILE\n\nValidate a configuration file and compile the policy it names (or the embedded one);\nexits 1 with every problem, naming key and line, when serve would refuse it.")
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "check" {
		c.printUsage(os.Stderr)
		return usageError("unknown config command %q", args[0])
	}
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		c.printUsage(os.Stderr)
		return usageError("config check takes one FILE")
	}
	cfg, err := loadConfig(pos[0])
	if err != nil {
		return err
	}
	if _, _, err := newRulesInspectorPolicy(cfg, false, nil); err != nil {
		return fmt.Errorf("%s: policy: %w", pos[0], err)
	}
	// The directory settings as serve reads them (filter syntax, CA file);
	// nothing connects.
	if _, src, err := newDirectory(cfg, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	} else if src != nil {
		src.Close()
	}
	fmt.Println(pos[0] + ": ok")
	return nil
}

// passwdHash prints a bcrypt hash for smtp.users. The password is read
// from stdin so it never appears in the process list or shell history.
func passwdHash(args []string) error {
	c := newCommand("passwd-hash", "passwd-hash\n\nRead a password (8 characters or more) on stdin and print its bcrypt hash for smtp.users.")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		c.printUsage(os.Stderr)
		return usageError("passwd-hash takes no arguments (the password is read from stdin)")
	}
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return errors.New("password must have at least 8 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 12)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr)
	fmt.Println(string(h))
	return nil
}
