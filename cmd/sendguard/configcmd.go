package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/inspect"
)

func configCmd(args []string) error {
	if len(args) != 2 || args[0] != "check" {
		return errors.New("usage: sendguard config check FILE")
	}
	cfg, err := config.Load(args[1])
	if err != nil {
		return err
	}
	if err := ownData(cfg, &inspect.Config{}); err != nil {
		return err
	}
	fmt.Println(args[1] + ": ok")
	return nil
}

// passwdHash prints a bcrypt hash for smtp.users. The password is read
// from stdin so it never appears in the process list or shell history.
func passwdHash() error {
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
