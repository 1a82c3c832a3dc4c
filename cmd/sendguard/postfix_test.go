package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// postfixInstance is a private Postfix (own config, queue and log) on a
// loopback port, with relayhost pointing at sendguard — the production
// setup in miniature.
type postfixInstance struct {
	t      testing.TB
	cfgDir string
	smtpd  string
}

func requirePostfix(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("postfix is not installed (CI installs it in .ci/run)")
		}
		t.Skip("postfix not installed")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the Postfix test needs root")
		}
		t.Skip("the Postfix test needs root")
	}
}

func startPostfix(t testing.TB, relayhost string) *postfixInstance {
	t.Helper()
	requirePostfix(t)
	base, err := os.MkdirTemp("/var/tmp", "sg-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	p := &postfixInstance{t: t, cfgDir: filepath.Join(base, "etc"), smtpd: freePort(t)}
	queue := filepath.Join(base, "queue")
	data := filepath.Join(base, "data")
	for _, d := range []string{p.cfgDir, queue, data} {
		os.MkdirAll(d, 0o755)
	}
	_, port, _ := strings.Cut(p.smtpd, ":")
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %s
data_directory = %s
maillog_file = %s/maillog
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.com
mydomain = example.com
myorigin = example.com
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
`, queue, data, base, strings.Split(relayhost, ":")[0], strings.Split(relayhost, ":")[1])
	master := fmt.Sprintf(`127.0.0.1:%s inet n - n - - smtpd
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
	os.WriteFile(filepath.Join(p.cfgDir, "main.cf"), []byte(main), 0o644)
	os.WriteFile(filepath.Join(p.cfgDir, "master.cf"), []byte(master), 0o644)
	if out, err := exec.Command("postfix", "-c", p.cfgDir, "set-permissions").CombinedOutput(); err != nil {
		t.Logf("postfix set-permissions: %v %s", err, out)
	}
	if out, err := exec.Command("postfix", "-c", p.cfgDir, "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, p.log())
	}
	t.Cleanup(func() {
		exec.Command("postfix", "-c", p.cfgDir, "stop").Run()
		time.Sleep(200 * time.Millisecond)
		os.RemoveAll(base)
	})
	return p
}

func (p *postfixInstance) log() string {
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(p.cfgDir), "maillog"))
	return string(b)
}

// sendmail injects a message with Postfix's own sendmail, as a user's
// mail client on the MTA host would.
func (p *postfixInstance) sendmail(from string, to []string, msg []byte) error {
	args := append([]string{"-C", p.cfgDir, "-f", from, "-i", "--"}, to...)
	cmd := exec.Command("/usr/sbin/sendmail", args...)
	cmd.Stdin = strings.NewReader(string(msg))
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+p.cfgDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("sendmail: %v: %s", err, out)
	}
	return nil
}

func TestPostfixRelayhostThroughSendguard(t *testing.T) {
	requirePostfix(t)
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	pf := startPostfix(t, in.smtp)

	msg := testMessage("alice@example.com", []string{"bob@partner.test"}, "via-postfix", "Relayed by Postfix.")
	if err := pf.sendmail("alice@example.com", []string{"bob@partner.test"}, msg); err != nil {
		t.Fatal(err)
	}
	// And over SMTP into Postfix's smtpd.
	msg2 := testMessage("carol@example.com", []string{"dave@partner.test"}, "via-postfix-smtp", "Over SMTP.")
	if err := sendMail(pf.smtpd, "carol@example.com", []string{"dave@partner.test"}, msg2); err != nil {
		t.Fatalf("submit to postfix smtpd: %v\n%s", err, pf.log())
	}
	got, err := sk.Wait(2, 60*time.Second)
	if err != nil {
		t.Fatalf("%v\npostfix log:\n%s\nsendguard log:\n%s", err, pf.log(), in.logs())
	}
	ids := ""
	for _, m := range got {
		ids += string(m.Data)
		if !strings.Contains(string(m.Data), "(sendguard) with ESMTP") {
			t.Errorf("message did not pass sendguard:\n%.400s", m.Data)
		}
		if !strings.Contains(string(m.Data), "by mta.example.com (Postfix") {
			t.Errorf("message did not pass Postfix:\n%.600s", m.Data)
		}
	}
	for _, id := range []string{"<via-postfix@test>", "<via-postfix-smtp@test>"} {
		if !strings.Contains(ids, id) {
			t.Errorf("%s did not arrive", id)
		}
	}
}
