package config

import (
	"net/url"
	"os"
	"strings"
)

// Storage selects where the gateway keeps what must be the same on every
// node. bbolt (the default) is one node's embedded database under
// data_dir; postgres shares the held queue of several nodes on one
// PostgreSQL database while in-flight mail stays in each node's spool.
type Storage struct {
	// Driver is bbolt (default) or postgres.
	Driver string `yaml:"driver"`
	// DSN is a libpq URL (postgres://user@host:5432/sendguard?sslmode=verify-full)
	// or key=value string; what it leaves out comes from the standard PG*
	// environment (PGPASSWORD, PGPASSFILE, PGSSLROOTCERT, ...). It must not
	// carry the password.
	DSN string `yaml:"dsn"`
	// PasswordFile holds the database password (first line).
	PasswordFile string `yaml:"password_file"`
	// Node names this node in the shared queue: unique in the cluster and
	// stable across restarts (default: the host name).
	Node string `yaml:"node"`
	// Sync is how the acceptance makes the spool files of a message it
	// commits durable: group (default) makes every file of a group commit
	// durable with one syncfs of data_dir's file system; file fsyncs each
	// file, for a data_dir on a file system other programs write much to.
	Sync string `yaml:"sync"`
}

// SyncEachFile reports storage.sync: file.
func (s Storage) SyncEachFile() bool { return s.Sync == "file" }

// Postgres reports whether the shared PostgreSQL store is configured.
func (s Storage) Postgres() bool { return s.Driver == "postgres" }

// NodeName is Node or, when empty, the host name.
func (s Storage) NodeName() string {
	if s.Node != "" {
		return s.Node
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "sendguard"
	}
	return h
}

func (v *validator) checkStorage(s *Storage) {
	switch s.Sync {
	case "", "group", "file":
	default:
		v.add("storage.sync", "must be group or file, not %q", s.Sync)
	}
	switch s.Driver {
	case "", "bbolt":
		if s.DSN != "" || s.PasswordFile != "" {
			v.add("storage.driver", "must be postgres when storage.dsn or storage.password_file is set")
		}
		return
	case "postgres":
	default:
		v.add("storage.driver", "must be bbolt or postgres, not %q", s.Driver)
		return
	}
	if s.DSN == "" {
		v.add("storage.dsn", "must be set with storage.driver: postgres")
	} else if dsnHasPassword(s.DSN) {
		v.add("storage.dsn", "must not contain the password: use storage.password_file or PGPASSWORD/PGPASSFILE")
	}
	if s.PasswordFile != "" {
		if _, err := os.ReadFile(s.PasswordFile); err != nil {
			v.add("storage.password_file", "cannot read: %v", unwrapPath(err))
		}
	}
	if strings.ContainsAny(s.Node, " \t\r\n") {
		v.add("storage.node", "%q must not contain spaces", s.Node)
	}
}

// dsnHasPassword finds a password in a URL or key=value DSN.
func dsnHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return false // the connection reports the malformed URL
		}
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(strings.ToLower(f), "password=") {
			return true
		}
	}
	return false
}
