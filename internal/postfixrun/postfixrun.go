// Package postfixrun starts a private Postfix instance for tests and the
// load tool: its own configuration, queue and log under /var/tmp, an smtpd
// on a loopback port, relaying everything to one relayhost. It needs root
// and Debian's postfix package; nothing is left behind after Stop.
package postfixrun

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Instance is one running private Postfix.
type Instance struct {
	base   string
	CfgDir string // for `postfix -c` and `sendmail -C`
	SMTPD  string // host:port of its smtpd
}

// Missing says why a private Postfix cannot run here, or "".
func Missing() string {
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		return "postfix is not installed (apt-get install postfix)"
	}
	if os.Geteuid() != 0 {
		return "a private Postfix instance needs root"
	}
	return ""
}

// Start runs Postfix with its smtpd on smtpd (a free loopback host:port)
// and relayhost as its only next hop, and waits until it listens.
// myDomain names the MTA (mta.DOMAIN); mainExtra lines are appended to
// main.cf.
func Start(smtpd, relayhost, myDomain string, mainExtra ...string) (*Instance, error) {
	base, err := os.MkdirTemp("/var/tmp", "sg-postfix-")
	if err != nil {
		return nil, err
	}
	os.Chmod(base, 0o755) // postfix's own users read below it
	p := &Instance{base: base, CfgDir: filepath.Join(base, "etc"), SMTPD: smtpd}
	queue, data := filepath.Join(base, "queue"), filepath.Join(base, "data")
	for _, d := range []string{p.CfgDir, queue, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			os.RemoveAll(base)
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
myhostname = mta.%s
mydomain = %s
myorigin = %s
mydestination =
local_transport = error:local delivery disabled
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [%s]:%s
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`, queue, data, base, myDomain, myDomain, myDomain, rhost, rport) + strings.Join(mainExtra, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(p.CfgDir, "main.cf"), []byte(mainCf), 0o644); err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(p.CfgDir, "master.cf"), []byte(fmt.Sprintf(masterCf, port)), 0o644); err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	exec.Command("postfix", "-c", p.CfgDir, "set-permissions").Run() // best effort: only matters on a fresh install
	if out, err := exec.Command("postfix", "-c", p.CfgDir, "start").CombinedOutput(); err != nil {
		log := p.Log()
		os.RemoveAll(base)
		return nil, fmt.Errorf("postfix start: %v: %s\n%s", err, out, log)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", smtpd, 100*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	log := p.Log()
	p.Stop()
	return nil, fmt.Errorf("postfix did not listen on %s\n%s", smtpd, log)
}

// Log is Postfix's own log so far.
func (p *Instance) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.base, "maillog"))
	return string(b)
}

// Stop stops Postfix and removes everything it wrote.
func (p *Instance) Stop() {
	exec.Command("postfix", "-c", p.CfgDir, "stop").Run()
	time.Sleep(300 * time.Millisecond) // its daemons exit after the master
	os.RemoveAll(p.base)
}

const masterCf = `127.0.0.1:%s inet n - n - - smtpd
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
`
