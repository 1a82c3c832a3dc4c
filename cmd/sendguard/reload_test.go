package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const deliverAllPolicy = `version: 1
rules:
  - name: pass
    when: "true"
    actions: [deliver]
`

const holdExternalPolicy = `version: 1
rules:
  - name: hold-external
    when: recipients.external > 0
    actions: [hold_review]
    reason:
      ja: 社外宛は確認します。
      en: External mail is reviewed.
`

// brokenPolicy's condition on line 4 does not compile.
const brokenPolicy = `version: 1
rules:
  - name: broken
    when: recipients.external >
    actions: [hold_review]
`

// auditEvents is the audit log's length as `audit verify` reports it.
func auditEvents(t *testing.T, in *instance) int {
	t.Helper()
	out, err := in.cli("audit", "verify")
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	var v struct {
		OK     bool
		Events int
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.OK {
		t.Fatalf("audit verify: %s", out)
	}
	return v.Events
}

// waitLog waits until the log has n lines containing s.
func waitLog(t *testing.T, in *instance, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(in.logs(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log never had %d × %q:\n%s", n, s, in.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReloadSwapsPolicyOrKeepsTheOldOne(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	policyPath := in.dir + "/policy.yaml"
	writeFile(policyPath, deliverAllPolicy)
	base, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, base+"policy: "+policyPath+"\n")
	in.start()

	send := func(n int) {
		t.Helper()
		id := fmt.Sprintf("reload-%d", n)
		if err := sendMail(in.smtp, "alice@example.com", []string{"bob@partner.test"},
			testMessage("alice@example.com", []string{"bob@partner.test"}, id, "hello")); err != nil {
			t.Fatalf("send %d: %v\n%s", n, err, in.logs())
		}
	}
	delivered := func(n int) {
		t.Helper()
		if _, err := sk.Wait(n, 10*time.Second); err != nil {
			t.Fatalf("%v\n%s", err, in.logs())
		}
	}
	held := func(n int) {
		t.Helper()
		if got := len(heldIDs(t, in)); got != n {
			t.Fatalf("%d held messages, want %d\n%s", got, n, in.logs())
		}
	}

	send(1)
	delivered(1)
	events := auditEvents(t, in)

	// A policy that holds, put in force by `sendguard reload`.
	writeFile(policyPath, holdExternalPolicy)
	out, err := in.cli("reload")
	if err != nil || !strings.Contains(out, "reloaded: policy "+policyPath+" (1 rules)") {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	send(2)
	held(1)
	if got := auditEvents(t, in); got < events+1 {
		t.Fatalf("audit events %d after a reload, want more than %d", got, events)
	}
	events = auditEvents(t, in)

	// A broken policy is refused with its file and line; the hold policy
	// stays in force.
	writeFile(policyPath, brokenPolicy)
	out, err = in.cli("reload")
	if err == nil {
		t.Fatalf("broken policy accepted:\n%s", out)
	}
	if !strings.Contains(out, "reload refused") || !strings.Contains(out, policyPath+":4: policy: ") {
		t.Fatalf("refusal does not name the file, line and key:\n%s", out)
	}
	waitLog(t, in, "reload refused", 1)
	send(3)
	held(2)

	// A broken configuration file: every error with key and line.
	writeFile(policyPath, deliverAllPolicy)
	writeFile(in.cfgPath, base+"policy: "+policyPath+"\nhold:\n  expire_after: 0s\n  approvers:\n    \"*\": [not-an-address]\n")
	out, err = in.cli("reload")
	if err == nil || !regexp.MustCompile(`:\d+: hold.approvers.\*\[0\]: "not-an-address" is not an address`).MatchString(out) ||
		!regexp.MustCompile(`:\d+: hold.expire_after: must be at least 1s`).MatchString(out) {
		t.Fatalf("broken config: %v\n%s", err, out)
	}
	send(4)

	// SIGHUP does the same: the good file is put in force...
	writeFile(in.cfgPath, base+"policy: "+policyPath+"\n")
	held(3)
	in.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, in, "configuration reloaded", 2)
	if !strings.Contains(in.logs(), `by="signal (SIGHUP)"`) {
		t.Fatalf("the log does not say who reloaded:\n%s", in.logs())
	}
	send(5)
	delivered(2)
	// ...and a broken one refused, in the log, with key and line.
	writeFile(policyPath, brokenPolicy)
	in.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, in, "reload refused", 3)
	if !strings.Contains(in.logs(), policyPath+":4: policy: ") {
		t.Fatalf("the log does not name the broken line:\n%s", in.logs())
	}
	send(6)
	delivered(3)
	held(3)
	if got := auditEvents(t, in); got < events+4 {
		t.Fatalf("audit events %d, want at least %d (each reload, refused or not, is one)", got, events+4)
	}

	// A setting that cannot change live is named, and the old value kept.
	writeFile(policyPath, deliverAllPolicy)
	moved := strings.Replace(base, "listen: "+in.smtp, "listen: "+freePort(t), 1)
	writeFile(in.cfgPath, moved+"policy: "+policyPath+"\n")
	out, err = in.cli("reload")
	if err != nil || !strings.Contains(out, "restart needed for: smtp.listen") {
		t.Fatalf("changed listen address: %v\n%s", err, out)
	}
	send(7)
	delivered(4)
}

func TestReloadHelpAndUsage(t *testing.T) {
	out, _, code := runCLI(t, "reload", "-h")
	if code != 0 || !strings.Contains(out, "usage: sendguard reload") {
		t.Fatalf("reload -h: exit %d\n%s", code, out)
	}
	if _, errOut, code := runCLI(t, "reload", "extra"); code != 2 {
		t.Fatalf("reload extra: exit %d, want 2\n%s", code, errOut)
	}
}

// TestReloadReplacesCertificates: renewed certificate files are served by
// the next SMTP STARTTLS and HTTPS handshakes after a reload, no restart.
func TestReloadReplacesCertificates(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	cert, key := writeTestCert(t, in.dir)
	cfg, _ := readFile(in.cfgPath)
	cfg = strings.Replace(cfg, "trusted_networks: [127.0.0.0/8]\n", fmt.Sprintf("trusted_networks: [127.0.0.0/8]\n  tls: {cert: %s, key: %s}\n", cert, key), 1)
	cfg = strings.Replace(cfg, "web:\n", fmt.Sprintf("web:\n  tls: {cert: %s, key: %s}\n", cert, key), 1)
	writeFile(in.cfgPath, cfg)
	in.start()

	smtpCert := func() []byte {
		t.Helper()
		c, err := smtp.Dial(in.smtp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(insecureTLS()); err != nil {
			t.Fatal(err)
		}
		st, _ := c.TLSConnectionState()
		return st.PeerCertificates[0].Raw
	}
	webCert := func() []byte {
		t.Helper()
		c, err := tls.Dial("tcp", in.web, insecureTLS())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	pemDER := func() []byte {
		b, _ := os.ReadFile(cert)
		blk, _ := pem.Decode(b)
		return blk.Bytes
	}
	first := pemDER()
	if !bytes.Equal(smtpCert(), first) || !bytes.Equal(webCert(), first) {
		t.Fatal("the listeners do not serve the configured certificate")
	}
	writeTestCert(t, in.dir) // renewed in place, as certbot does
	second := pemDER()
	if bytes.Equal(first, second) {
		t.Fatal("the test certificate did not change")
	}
	if out, err := in.cli("reload"); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	if !bytes.Equal(smtpCert(), second) || !bytes.Equal(webCert(), second) {
		t.Fatal("after the reload the listeners still serve the old certificate")
	}
}

// TestReloadPutsANewCustomerListInForce: `edm import` then `sendguard
// reload` and the running gateway matches the new list; a corrupt index
// is refused and the list in force stays.
func TestReloadPutsANewCustomerListInForce(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	keys := filepath.Join(in.dir, "keys")
	os.Mkdir(keys, 0o700)
	key, idx := filepath.Join(keys, "edm.key"), filepath.Join(in.dir, "data", "edm.idx")
	os.MkdirAll(filepath.Dir(idx), 0o700)
	importList := func(rows string) {
		t.Helper()
		src := filepath.Join(in.dir, "customers.csv")
		writeFile(src, "氏名,電話,メール\n"+rows)
		if err := edmCmd([]string{"import", "-fields", "name,phone,email", "-key", key, "-index", idx, src}); err != nil {
			t.Fatal(err)
		}
	}
	importList("山田 太郎,090-1111-2222,taro@example.net\n")
	cfg, _ := readFile(in.cfgPath)
	writeFile(in.cfgPath, cfg+"edm:\n  key_file: "+key+"\n")
	in.start()

	n := 0
	send := func() {
		t.Helper()
		n++
		body := "佐藤 花子 様のご連絡先: 03-5555-0000 hanako@example.org"
		if err := sendMail(in.smtp, "alice@example.com", []string{"bob@partner.test"},
			testMessage("alice@example.com", []string{"bob@partner.test"}, fmt.Sprintf("edm-%d", n), body)); err != nil {
			t.Fatalf("send: %v\n%s", err, in.logs())
		}
	}
	send()
	if _, err := sk.Wait(1, 10*time.Second); err != nil {
		t.Fatalf("a customer not in the list was not delivered: %v\n%s", err, in.logs())
	}

	importList("山田 太郎,090-1111-2222,taro@example.net\n佐藤 花子,03-5555-0000,hanako@example.org\n")
	good, _ := os.ReadFile(idx)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xFF
	os.WriteFile(idx, corrupt, 0o600)
	out, err := in.cli("reload")
	if err == nil || !strings.Contains(out, "edm.index") {
		t.Fatalf("corrupt index: %v\n%s", err, out)
	}
	send()
	if _, err := sk.Wait(2, 10*time.Second); err != nil {
		t.Fatalf("the list in force changed after a refused reload: %v\n%s", err, in.logs())
	}

	os.WriteFile(idx, good, 0o600)
	if out, err := in.cli("reload"); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	send()
	waitLog(t, in, "status=held", 1)
	if !strings.Contains(in.logs(), "rules=own-records-external") {
		t.Fatalf("the new customer's record was not matched:\n%s", in.logs())
	}
	got := 0
	for _, m := range sk.Messages() {
		if strings.Join(m.To, ",") == "bob@partner.test" {
			got++
		}
	}
	if got != 2 {
		t.Fatalf("%d delivered to the partner, want 2 (the third is held)", got)
	}
}
