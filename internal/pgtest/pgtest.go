// Package pgtest runs a private PostgreSQL for tests, from Debian's
// binaries: initdb and pg_ctl in a temporary directory, listening on a
// loopback port only, its socket in that directory, nothing outside it.
// PostgreSQL refuses to run as root, so as root the server runs as the
// postgres system user the package creates (runuser).
//
// One server is shared by a test binary and started on first use: a
// package calls Main from its TestMain so the server is stopped and its
// directory removed when the tests end, and each test gets a fresh
// database from New. A test that stops the server on purpose starts its
// own with Start.
//
// Without /usr/lib/postgresql/*/bin/initdb the tests skip, saying so; with
// CI set they fail instead (scripts/test.sh installs postgresql).
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// binDir returns the newest installed PostgreSQL's bin directory.
func binDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)")
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) < version(matches[j]) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// Require skips the test when PostgreSQL is not installed, or fails it
// under CI, and returns the bin directory.
func Require(t testing.TB) string {
	t.Helper()
	dir, err := binDir()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI installs postgresql in scripts/test.sh)", err)
		}
		t.Skip(err.Error())
	}
	return dir
}

// Server is one private PostgreSQL cluster.
type Server struct {
	Port int
	bin  string
	dir  string // owned by the server's user; data, log and socket inside
	as   []string
	mu   sync.Mutex
	up   bool
}

// The per-binary shared server (test helpers may keep package state: one
// server per test binary is the point).
var (
	shared    *Server
	sharedErr error
	sharedMu  sync.Mutex
	dbSeq     atomic.Int64
)

// Main runs the tests and then stops the shared server, if one started.
// Use it as: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// New returns the DSN of a fresh, empty database on the shared server,
// dropped when the test ends.
func New(t testing.TB) string {
	t.Helper()
	bin := Require(t)
	sharedMu.Lock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = start(bin)
	}
	s, err := shared, sharedErr
	sharedMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return s.NewDB(t)
}

// Start runs a server of the test's own, stopped and removed when the test
// ends; use it to stop and restart the database under load.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(Require(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// NewDB creates a fresh database on s, dropped when the test ends, and
// returns its DSN.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.mu.Lock()
		up := s.up
		s.mu.Unlock()
		if !up {
			return // a stopped test server goes with its directory
		}
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return s.DSN(name)
}

// DSN is the URL of database name on s.
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

func (s *Server) exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "sendguard-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	// Test data only: --no-sync skips initdb's own fsyncs (3 s → 1 s);
	// the running server keeps fsync on so commits cost what they cost.
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", s.data(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 3 { // a port picked free may be taken before the server binds it
		s.Port, err = freePort()
		if err != nil {
			return nil, err
		}
		if lastErr = s.Restart(); lastErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(name string, args ...string) ([]byte, error) {
	argv := append(append([]string(nil), s.as...), name)
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Restart starts a stopped server on the same port and data.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300", s.Port, s.dir)
	out, err := s.run(filepath.Join(s.bin, "pg_ctl"), "-D", s.data(), "-l", filepath.Join(s.dir, "log"),
		"-w", "-t", "30", "-o", opts, "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s.up = true
	return nil
}

// Stop stops the server (fast shutdown: open sessions are ended).
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		return nil
	}
	if out, err := s.run(filepath.Join(s.bin, "pg_ctl"), "-D", s.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	s.up = false
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	return errors.Join(err, os.RemoveAll(s.dir))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
