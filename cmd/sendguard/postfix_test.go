package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/postfixrun"
)

// postfixInstance is a private Postfix (own config, queue and log) on a
// loopback port, with relayhost pointing at sendguard — the production
// setup in miniature.
type postfixInstance struct {
	t      testing.TB
	pf     *postfixrun.Instance
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
	pf, err := postfixrun.Start(freePort(t), relayhost, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pf.Stop)
	return &postfixInstance{t: t, pf: pf, cfgDir: pf.CfgDir, smtpd: pf.SMTPD}
}

func (p *postfixInstance) log() string { return p.pf.Log() }

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
