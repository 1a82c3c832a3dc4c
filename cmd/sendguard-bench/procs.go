package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// gateway is a sendguard started by the tool: its own data dir and a
// generated config whose next hop is the tool's sink.
type gateway struct {
	dir  string
	smtp string
	cmd  *exec.Cmd
	done chan error
	logf *os.File
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startGateway(bin, dir, nextHop string) (*gateway, error) {
	smtpAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	webAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`data_dir: %s
hostname: gw.example.com
internal_domains: [%s]
smtp:
  listen: %s
  trusted_networks: [127.0.0.0/8]
  max_message_bytes: 104857600
  max_connections_per_ip: 200
web:
  listen: %s
  base_url: http://%s
delivery:
  next_hop: %q
  tls: none
log:
  level: warn
`, filepath.Join(dir, "data"), internalDomain, smtpAddr, webAddr, webAddr, nextHop)
	cfgPath := filepath.Join(dir, "sendguard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "sendguard.log"))
	if err != nil {
		return nil, err
	}
	g := &gateway{dir: dir, smtp: smtpAddr, logf: logf, done: make(chan error, 1)}
	g.cmd = exec.Command(bin, "serve", "-config", cfgPath)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { g.done <- g.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", smtpAddr, 100*time.Millisecond); err == nil {
			c.Close()
			return g, nil
		}
		select {
		case err := <-g.done:
			g.cmd = nil
			return nil, fmt.Errorf("sendguard exited: %v\n%s", err, g.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	g.stop()
	return nil, fmt.Errorf("sendguard did not listen on %s\n%s", smtpAddr, g.logTail())
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

func (g *gateway) logTail() string {
	b, _ := os.ReadFile(g.logf.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop ends the gateway (SIGTERM, SIGKILL after 30 s) and reaps it.
func (g *gateway) stop() {
	if g.cmd == nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
	g.cmd = nil
	g.logf.Close()
}

// cpuSeconds is the process's user+system CPU time from /proc/PID/stat
// (fields 14 and 15, in clock ticks; USER_HZ is 100 on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// the command name (field 2) may contain spaces: split after ')'
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil
}

// peakRSS is the process's high-water resident set (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v << 10
			}
		}
	}
	return 0
}

// postfixRelay is a private Postfix instance (own config, queue and log
// under /var/tmp, loopback only) relaying everything to the sink: the
// reference the gateway is compared with. It needs root.
type postfixRelay struct {
	base, cfgDir string
	smtpd        string
}

// postfixMissing says why Postfix cannot run here, or "".
func postfixMissing() string {
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		return "postfix is not installed (apt-get install postfix)"
	}
	if os.Geteuid() != 0 {
		return "a private Postfix instance needs root"
	}
	return ""
}

func startPostfix(relayhost string) (*postfixRelay, error) {
	base, err := os.MkdirTemp("/var/tmp", "sg-bench-postfix-")
	if err != nil {
		return nil, err
	}
	os.Chmod(base, 0o755)
	smtpd, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &postfixRelay{base: base, cfgDir: filepath.Join(base, "etc"), smtpd: smtpd}
	queue, data := filepath.Join(base, "queue"), filepath.Join(base, "data")
	for _, d := range []string{p.cfgDir, queue, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	_, port, _ := strings.Cut(smtpd, ":")
	rhost, rport, _ := strings.Cut(relayhost, ":")
	mainCf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %s
data_directory = %s
maillog_file = %s/maillog
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
local_transport = error:local delivery disabled
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [%s]:%s
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
message_size_limit = 104857600
alias_maps =
alias_database =
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`, queue, data, base, rhost, rport)
	masterCf := fmt.Sprintf(`127.0.0.1:%s inet n - n - - smtpd
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`, port)
	if err := os.WriteFile(filepath.Join(p.cfgDir, "main.cf"), []byte(mainCf), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(p.cfgDir, "master.cf"), []byte(masterCf), 0o644); err != nil {
		return nil, err
	}
	exec.Command("postfix", "-c", p.cfgDir, "set-permissions").Run() // best effort, as the tests do
	if out, err := exec.Command("postfix", "-c", p.cfgDir, "start").CombinedOutput(); err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("postfix start: %v: %s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", smtpd, 100*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("postfix did not listen on %s", smtpd)
}

func (p *postfixRelay) stop() {
	exec.Command("postfix", "-c", p.cfgDir, "stop").Run()
	time.Sleep(300 * time.Millisecond)
	os.RemoveAll(p.base)
}
