package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/slapdtest"
)

// Per-group allowances with the embedded default policy and the real
// directory: sales (営業部) may show up to 30 external addresses on 30
// domains, so tanaka's mail to 12 customers goes out; suzuki in
// accounting has the default (10+ is held for the sender).
func TestSalesAllowanceFromDirectoryGroups(t *testing.T) {
	s := slapdtest.Start(t)
	sk := startSink(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap.pass")
	os.WriteFile(pw, []byte(slapdtest.Password+"\n"), 0o600)
	in := newInstance(t, sk.Addr, fmt.Sprintf(`allowances:
  visible_external: {営業部: 30}
  visible_external_domains: {営業部: 30}
directory:
  ldap:
    url: %s
    bind_dn: %s
    password_file: %s
    base_dn: %s
    group_base_dn: %s
  wait: 2s
`, s.URL, slapdtest.BindDN, pw, slapdtest.BaseDN, slapdtest.GroupDN))
	in.start()

	to := massRecipients("c")
	if err := sendMail(in.smtp, "tanaka@example.com", to, testMessage("tanaka@example.com", to, "sales-mass", "ご案内")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "sales-mass") == 1 })
	if err := sendMail(in.smtp, "suzuki@example.com", to, testMessage("suzuki@example.com", to, "acct-mass", "ご案内")); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, sk, "suzuki@example.com", "/h/")
	if held := heldMessages(t, in); len(held) != 1 || countByID(sk, "acct-mass") != 0 {
		t.Fatalf("held %v, accounting mail delivered %d", held, countByID(sk, "acct-mass"))
	}
	// check -config shows the allowance the policy saw.
	eml := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(eml, testMessage("tanaka@example.com", to, "chk", "x"), 0o600)
	out, _, _ := runCLI(t, "check", "-config", in.cfgPath, "-json", "-from", "tanaka@example.com", eml)
	if !strings.Contains(out, `"allowances":{"visible_external":30,"visible_external_domains":30}`) || strings.Contains(out, "mass-exposure") {
		t.Errorf("check: %s", out)
	}
}
