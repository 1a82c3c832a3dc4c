package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestConfigRefusesSplitOpenRelay(t *testing.T) {
	bin := sendguardBin(t)
	for _, nets := range []string{"[0.0.0.0/1, 128.0.0.0/1]", "['::/1', '8000::/1']"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "sendguard.yaml")
		cfg := fmt.Sprintf("data_dir: %s\nsmtp:\n  listen: 127.0.0.1:0\n  trusted_networks: %s\nweb:\n  listen: 127.0.0.1:0\n",
			filepath.Join(dir, "data"), nets)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"config", "check", path}, {"serve", "-config", path}} {
			cmd := exec.Command(bin, args...)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("%s started with trusted_networks %s", args[0], nets)
			}
			if err == nil {
				t.Fatalf("%v accepted trusted_networks %s:\n%s", args, nets, out)
			}
			for _, want := range []string{"smtp.trusted_networks[0]", "smtp.trusted_networks[1]", "wider than"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("%v with %s: output lacks %q:\n%s", args, nets, want, out)
				}
			}
		}
	}
}

func TestWebListenerClosesSlowClients(t *testing.T) {
	in := newInstance(t, "", "")
	cfg, _ := os.ReadFile(in.cfgPath)
	cfg = bytes.Replace(cfg, []byte("\nweb:\n"), []byte("\nweb:\n  idle_timeout: 1s\n  read_timeout: 2s\n  max_connections_per_ip: 4\n"), 1)
	os.WriteFile(in.cfgPath, cfg, 0o600)
	in.start()
	waitClosed := func(c net.Conn, limit time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		c.SetReadDeadline(start.Add(limit))
		if _, err := io.Copy(io.Discard, c); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection still open after %v", limit)
			}
		}
		return time.Since(start)
	}
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", in.web, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// An idle keep-alive connection is closed after web.idle_timeout.
	idle := dial()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", in.web)
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	// A POST announcing 1 MB and sending 5 bytes is closed after
	// web.read_timeout.
	slow := dial()
	fmt.Fprintf(slow, "POST /healthz HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n\r\nhello", in.web)
	if d := waitClosed(idle, 5*time.Second); d > 3*time.Second {
		t.Fatalf("idle keep-alive connection open %v (idle_timeout 1s)", d)
	}
	if d := waitClosed(slow, 5*time.Second); d > 4*time.Second {
		t.Fatalf("slow body open %v (read_timeout 2s)", d)
	}

	// Beyond web.max_connections_per_ip, connections are closed at once.
	for range 4 {
		fmt.Fprintf(dial(), "GET /healthz HTTP/1.1\r\nHost: %s\r\n", in.web)
	}
	time.Sleep(200 * time.Millisecond)
	if d := waitClosed(dial(), 2*time.Second); d > time.Second {
		t.Fatalf("fifth connection from one address open for %v", d)
	}
	if !strings.Contains(in.logs(), "sendguard started") {
		t.Fatal("no start line in the log")
	}
}

// TestOutsidersCannotStarveTrustedMTA floods the running binary from
// untrusted loopback addresses, as in the report: 200 outsiders used to
// hold every slot and the MTA got 421.
func TestOutsidersCannotStarveTrustedMTA(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	cert, key := writeTestCert(t, in.dir)
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(in.cfgPath)
	cfg = bytes.Replace(cfg, []byte("trusted_networks: [127.0.0.0/8]"), []byte(fmt.Sprintf(
		"trusted_networks: [127.0.0.1/32]\n  max_connections: 20\n  tls: {cert: %s, key: %s}\n  users:\n    - name: mta\n      password_hash: %q",
		cert, key, h)), 1)
	os.WriteFile(in.cfgPath, cfg, 0o600)
	in.start()

	held := 0
	for i := range 60 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.0.%d", 2+i%20))}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", in.smtp)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s := &rawSession{c: c, r: bufio.NewReader(c)}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if g := s.reply(); !strings.HasPrefix(g, "220") {
			continue
		}
		held++
		s.cmd("EHLO outsider.test")
		s.cmd("MAIL FROM:<x@evil.test>")
		s.cmd("NOOP")
	}
	if held != 30 {
		t.Fatalf("outsiders hold %d connections, want smtp.untrusted.max_connections (30)", held)
	}
	// The trusted MTA (plain SMTP from 127.0.0.1, as a relayhost on the
	// same network would) is greeted and relays.
	m := dialRaw(t, in.smtp)
	if g := m.reply(); !strings.HasPrefix(g, "220") {
		t.Fatalf("trusted MTA greeted with %q during the flood", g)
	}
	m.cmd("EHLO mta.example.com")
	for _, step := range [][2]string{{"MAIL FROM:<a@example.com>", "250"}, {"RCPT TO:<b@ext.test>", "250"}, {"DATA", "354"},
		{string(testMessage("a@example.com", []string{"b@ext.test"}, "flood", "hello")) + ".", "250"}} {
		if got := m.cmd(step[0]); !strings.HasPrefix(got, step[1]) {
			t.Fatalf("trusted MTA during the flood: %.40q -> %q", step[0], got)
		}
	}
	if _, err := sk.Wait(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
