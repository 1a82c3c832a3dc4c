package outbound

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSMTPSink runs Postfix's smtp-sink (an independent SMTP server) on a
// loopback port, dumping each transaction into a file under the returned
// directory. Tests skip without it, unless CI is set.
func startSMTPSink(t *testing.T, args ...string) (addr, dir string) {
	t.Helper()
	path, err := exec.LookPath("smtp-sink")
	if err != nil {
		path = "/usr/sbin/smtp-sink"
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("smtp-sink (Debian package postfix) is required in CI")
			}
			t.Skip("smtp-sink not installed (Debian package postfix)")
		}
	}
	// Not t.TempDir: its parent is private, and smtp-sink drops privileges.
	dir, err = os.MkdirTemp("", "smtpsink")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	args = append(args, "-d", filepath.Join(dir, "msg."), addr, "10")
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait() //nolint:errcheck // killed on purpose; Wait reaps it
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, dir
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtp-sink did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dumps(t *testing.T, dir string, want int) []string {
	t.Helper()
	var out []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
		if len(files) < want {
			continue
		}
		out = out[:0]
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		return out
	}
	t.Fatalf("smtp-sink dumped fewer than %d messages", want)
	return nil
}

func TestInteropPostfixSMTPSink(t *testing.T) {
	addr, dir := startSMTPSink(t)
	c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(addr), TLS: TLSOpportunistic})
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test", "c@x.test"}, Ret: RetHdrs, EnvID: "Q1",
		RcptDSN: map[string]RcptDSN{"b@x.test": {Notify: []string{"FAILURE"}, ORcpt: "b@x.test"}}}
	for range 3 {
		wantDelivered(t, deliver(t, c, env))
	}
	for _, d := range dumps(t, dir, 3) {
		for _, want := range []string{
			"X-Helo-Args: gw.example.com",
			"X-Mail-Args: <a@example.com> BODY=8BITMIME RET=HDRS ENVID=Q1\n",
			"X-Rcpt-Args: <b@x.test> NOTIFY=FAILURE ORCPT=RFC822;b@x.test\n",
			"X-Rcpt-Args: <c@x.test>\n",
			"\n.leading dot\n..two dots\n日本語 8bit\n\nlast line without newline\n",
		} {
			if !strings.Contains(d, want) {
				t.Errorf("dump lacks %q:\n%s", want, d)
			}
		}
	}
}

func TestInteropPeerDropsAtRSET(t *testing.T) {
	// smtp-sink hangs up on RSET: the pooled connection is found dead at
	// reuse and the message goes over a new one. (RSET checks a session
	// idle for longer than peekIdle only.)
	addr, dir := startSMTPSink(t, "-q", "RSET")
	c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(addr), TLS: TLSNone})
	c.peekIdle = 0
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}}
	wantDelivered(t, deliver(t, c, env))
	wantDelivered(t, deliver(t, c, env))
	dumps(t, dir, 2)
}

func TestInteropPeerRejects(t *testing.T) {
	addr, _ := startSMTPSink(t, "-f", "RCPT")
	c := newClient(t, Config{NextHop: "[127.0.0.1]:" + portOf(addr), TLS: TLSNone})
	r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}})[0]
	if r.Delivered || r.Temporary || r.Code/100 != 5 || r.Enhanced != "5.3.0" {
		t.Fatalf("result %+v", r)
	}
}
