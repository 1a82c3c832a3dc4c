package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real binary as a subprocess, as an admin
// would, with a recording sink as its next hop.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// removeBinDir removes what sendguardBin built (about 50 MB a run).
func removeBinDir() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

func sendguardBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sendguard-bin")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		// the PDF extraction worker beside the gateway, as installed
		// (extraction.worker: self runs the fallback)
		worker := filepath.Join(dir, "sendguard-extract")
		if out, err := exec.Command("go", "build", "-o", worker, "../sendguard-extract").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build sendguard-extract: %v\n%s", err, out)
			return
		}
		binPath = filepath.Join(dir, "sendguard")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort reserves a loopback port for a child process.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// instance is one running sendguard process.
type instance struct {
	t       testing.TB
	dir     string
	cfgPath string
	smtp    string
	web     string
	bin     string   // the sendguard binary ("": this package's, built once)
	env     []string // the process's environment (nil: this one's)
	cmd     *exec.Cmd
	logf    *os.File
	done    chan error
	mu      sync.Mutex // serialises kill/stop
}

// newInstance writes a config for a sendguard with its data in a temp dir
// and nextHop as its next hop ("" for the demo outbox). extra is appended
// to the YAML.
func newInstance(t testing.TB, nextHop, extra string) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{t: t, dir: dir, smtp: freePort(t), web: freePort(t)}
	cfg := fmt.Sprintf(`data_dir: %s
hostname: gw.example.com
internal_domains: [example.com]
smtp:
  listen: %s
  trusted_networks: [127.0.0.0/8]
web:
  listen: %s
  base_url: http://%s
delivery:
  next_hop: %q
  tls: none
  retry: [200ms, 500ms]
log:
  level: debug
%s`, filepath.Join(dir, "data"), in.smtp, in.web, in.web, nextHop, extra)
	in.cfgPath = filepath.Join(dir, "sendguard.yaml")
	if err := os.WriteFile(in.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return in
}

func (in *instance) start() {
	in.t.Helper()
	bin := in.bin
	if bin == "" {
		bin = sendguardBin(in.t)
	}
	logf, err := os.OpenFile(filepath.Join(in.dir, "sendguard.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		in.t.Fatal(err)
	}
	in.logf = logf
	in.cmd = exec.Command(bin, "serve", "-config", in.cfgPath)
	in.cmd.Env = in.env
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.done = make(chan error, 1)
	go func() { in.done <- in.cmd.Wait() }()
	in.t.Cleanup(in.kill)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", in.smtp, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-in.done:
			in.cmd = nil // reaped: nothing left to kill
			in.logf.Close()
			in.t.Fatalf("sendguard exited: %v\n%s", err, in.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	in.t.Fatalf("sendguard did not listen on %s\n%s", in.smtp, in.logs())
}

// kill sends SIGKILL (a crash) and reaps the process.
func (in *instance) kill() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
	in.cmd = nil
	in.logf.Close()
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		in.cmd = nil
		in.logf.Close()
		return err
	case <-time.After(40 * time.Second):
		in.cmd.Process.Signal(syscall.SIGKILL)
		<-in.done
		in.cmd = nil
		return fmt.Errorf("no exit within 40s of SIGTERM")
	}
}

func (in *instance) logs() string {
	b, _ := os.ReadFile(filepath.Join(in.dir, "sendguard.log"))
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	return string(b)
}

// cli runs a sendguard subcommand against this instance's config.
func (in *instance) cli(args ...string) (string, error) {
	args = append(args, "-config", in.cfgPath)
	out, err := exec.Command(sendguardBin(in.t), args...).CombinedOutput()
	return string(out), err
}

// testMessage builds a small message with a unique Message-ID.
func testMessage(from string, to []string, id, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: %s\r\nSubject: test %s\r\nMessage-ID: <%s@test>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, angleList(to), id, id, time.Now().Format(time.RFC1123Z), body)
	return b.Bytes()
}

func angleList(to []string) string {
	var parts []string
	for _, a := range to {
		parts = append(parts, "<"+a+">")
	}
	return strings.Join(parts, ", ")
}

// sendMail submits one message over SMTP and returns the final reply.
func sendMail(addr, from string, to []string, msg []byte) error {
	return smtp.SendMail(addr, nil, from, to, msg)
}

// rawSession speaks SMTP line by line for protocol edge cases.
type rawSession struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawSession {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	s := &rawSession{c: c, r: bufio.NewReader(c)}
	return s
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (s *rawSession) reply() string {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "ERR " + err.Error()
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func (s *rawSession) send(raw string) { s.c.Write([]byte(raw)) }

// cmd sends a command line and returns the reply.
func (s *rawSession) cmd(line string) string {
	s.send(line + "\r\n")
	return s.reply()
}
