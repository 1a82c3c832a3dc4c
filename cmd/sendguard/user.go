package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sendguard/sendguard/gateway"
)

// userCmd manages console accounts on the running instance:
//
//	sendguard user add NAME [-role viewer|reviewer|admin]
//	sendguard user passwd NAME
//	sendguard user totp-reset NAME
//
// Passwords are read from stdin (never from the command line). add and
// totp-reset print the otpauth:// URL to enrol in an authenticator app.
func userCmd(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: sendguard user add|passwd|totp-reset NAME [-role ROLE] [-config FILE]")
	}
	sub, name := args[0], args[1]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	role := fs.String("role", "reviewer", "add: viewer, reviewer or admin")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	c := adminClient(filepath.Join(cfg.DataDir, gateway.AdminSocket))
	var body []byte
	switch sub {
	case "add":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		body, err = c.doJSON("POST", "/v1/users", map[string]string{"name": name, "role": *role, "password": pw})
		if err != nil {
			return err
		}
	case "passwd":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		body, err = c.doJSON("POST", "/v1/users/"+url.PathEscape(name)+"/password", map[string]string{"password": pw})
		if err != nil {
			return err
		}
	case "totp-reset":
		body, err = c.do("POST", "/v1/users/"+url.PathEscape(name)+"/totp-reset")
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown user command %q", sub)
	}
	var out map[string]string
	if json.Unmarshal(body, &out) == nil && out["totp_url"] != "" {
		fmt.Printf("user %s: enrol this in an authenticator app (TOTP):\n%s\n", name, out["totp_url"])
		return nil
	}
	os.Stdout.Write(body)
	return nil
}

func readPassword() (string, error) {
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprintln(os.Stderr)
	return strings.TrimRight(line, "\r\n"), nil
}
