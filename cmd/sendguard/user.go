package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/web/console"
)

const userUsage = `user SUBCOMMAND [-config FILE]

  user add NAME [-role viewer|reviewer|admin]   create an account (password on stdin; prints the TOTP enrolment URL)
  user passwd NAME                              set a new password (stdin); signs the account out
  user totp-reset NAME                          new second factor; prints the enrolment URL
  user list [-json]                             every account with role and status
  user disable NAME | enable NAME               block or unblock sign-in (blocking signs the account out)
  user delete NAME                              remove the account (its audit events stay)

Talks to the running gateway over its admin socket.`

// userCmd manages console accounts on the running instance. Passwords are
// read from stdin, never from the command line.
func userCmd(args []string) error {
	c := newCommand("user", userUsage)
	cfgPath := c.configFlag()
	role := c.fs.String("role", console.RoleReviewer, "add: viewer, reviewer or admin")
	asJSON := c.fs.Bool("json", false, "list: print JSON")
	if wantsHelp(args) {
		return c.help(args)
	}
	sub := args[0]
	c.fs.Init("user "+sub, c.fs.ErrorHandling())
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	needName := func() (string, error) {
		if len(pos) != 1 {
			c.printUsage(os.Stderr)
			return "", usageError("user %s takes one NAME", sub)
		}
		return pos[0], checkName("user name", pos[0])
	}
	switch sub {
	case "add", "passwd", "totp-reset", "disable", "enable", "delete":
	case "list":
		if len(pos) != 0 {
			return usageError("user list takes no arguments")
		}
	default:
		c.printUsage(os.Stderr)
		return usageError("unknown user command %q", sub)
	}
	name := ""
	if sub != "list" {
		if name, err = needName(); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	a := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket))
	path := "/v1/users/" + url.PathEscape(name)
	var body []byte
	switch sub {
	case "add":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		body, err = a.doJSON("POST", "/v1/users", map[string]string{"name": name, "role": *role, "password": pw})
		if err != nil {
			return err
		}
	case "passwd":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		if body, err = a.doJSON("POST", path+"/password", map[string]string{"password": pw}); err != nil {
			return err
		}
	case "totp-reset":
		if body, err = a.do("POST", path+"/totp-reset"); err != nil {
			return err
		}
	case "disable", "enable":
		if body, err = a.do("POST", path+"/"+sub); err != nil {
			return err
		}
	case "delete":
		if body, err = a.do("DELETE", path); err != nil {
			return err
		}
	case "list":
		if body, err = a.do("GET", "/v1/users"); err != nil {
			return err
		}
		if *asJSON {
			os.Stdout.Write(body)
			return nil
		}
		var list []console.UserInfo
		if err := json.Unmarshal(body, &list); err != nil {
			return err
		}
		loc := cfg.Location()
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tTOTP\tCREATED")
		for _, u := range list {
			status, totp := "active", "no"
			if u.Disabled {
				status = "disabled"
			}
			if u.TOTP {
				totp = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, status, totp, u.Created.In(loc).Format(cliTime))
		}
		tw.Flush()
		fmt.Printf("%d account(s)\n", len(list))
		return nil
	}
	var out map[string]string
	if json.Unmarshal(body, &out) == nil && out["totp_url"] != "" {
		fmt.Printf("user %s: enrol this in an authenticator app (TOTP):\n%s\n", name, out["totp_url"])
		return nil
	}
	if out["result"] != "" {
		fmt.Printf("user %s: %s\n", name, out["result"])
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

// userRoutes are the admin API's account listing, blocking and removal,
// registered beside adminapi.Admin's own routes.
func userRoutes(users *console.Users) *http.ServeMux {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, console.ErrUserNotFound):
			code = http.StatusNotFound
		case errors.Is(err, console.ErrInvalidUser):
			code = http.StatusBadRequest
		}
		reply(w, code, map[string]string{"error": err.Error()})
	}
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		list, err := users.ListUsers()
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, list)
	})
	for _, op := range []string{"disable", "enable"} {
		mux.HandleFunc("POST /v1/users/{name}/"+op, func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("name")
			if err := users.SetDisabled(name, op == "disable"); err != nil {
				fail(w, err)
				return
			}
			reply(w, http.StatusOK, map[string]string{"name": name, "result": op + "d"})
		})
	}
	mux.HandleFunc("DELETE /v1/users/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := users.DeleteUser(name); err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, map[string]string{"name": name, "result": "deleted"})
	})
	return mux
}
