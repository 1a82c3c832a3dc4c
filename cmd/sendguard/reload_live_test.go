package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/dkimtest"
	"github.com/sendguard/sendguard/internal/sink"
	"github.com/sendguard/sendguard/internal/slapdtest"
)

// DKIM keys and the company directory are put in force by a reload, no
// restart: mail after the reload is signed with the new key and judged
// with the directory's groups; a key file that cannot be read is refused
// with the key named and the running signer stays.
func TestReloadDKIMAndDirectory(t *testing.T) {
	dkimtest.Require(t)
	s := slapdtest.Start(t)
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	policy := filepath.Join(in.dir, "policy.yaml")
	writeFile(policy, directoryPolicy)
	base, _ := readFile(in.cfgPath)
	base += "policy: " + policy + "\n"
	writeFile(in.cfgPath, base)
	in.start()

	ext := []string{"partner@partner.example.net"}
	send := func(from, id string) {
		t.Helper()
		if err := sendMail(in.smtp, from, ext, testMessage(from, ext, id, "見積書")); err != nil {
			t.Fatal(err)
		}
	}
	// Before: no directory (the accountant's mail goes out), no signature.
	send("suzuki@example.com", "before")
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "before") == 1 })
	if m := byMessageID(sk, "before"); bytes.HasPrefix(m, []byte("DKIM-Signature:")) {
		t.Fatal("signed before DKIM was configured")
	}

	keyPath, rec := keygen(t, in.dir, "example.com", "sg2")
	pw := filepath.Join(in.dir, "ldap.pass")
	os.WriteFile(pw, []byte(slapdtest.Password+"\n"), 0o600)
	withBoth := base + fmt.Sprintf(`dkim:
  domains:
    example.com: {selector: sg2, key_file: %s}
directory:
  ldap:
    url: %s
    bind_dn: %s
    password_file: %s
    base_dn: %s
    group_base_dn: %s
  wait: 2s
`, keyPath, s.URL, slapdtest.BindDN, pw, slapdtest.BaseDN, slapdtest.GroupDN)
	writeFile(in.cfgPath, withBoth)
	out, err := in.cli("reload")
	if err != nil || strings.Contains(out, "restart needed") {
		t.Fatalf("reload: %v\n%s", err, out)
	}

	// After: the accountant is held for their manager from the directory,
	// a salesman's mail goes out signed with the new key.
	send("suzuki@example.com", "after-acct")
	noticeTo(t, sk, "sato@example.com", "after-acct")
	send("tanaka@example.com", "after-sales")
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "after-sales") == 1 })
	signed := byMessageID(sk, "after-sales")
	if doms := dkimtest.GoVerify(t, signed, dkimtest.Records{"sg2._domainkey.example.com": rec}); len(doms) != 1 {
		t.Fatalf("mail after the reload not signed with the new key:\n%.600s", signed)
	}
	if st, err := in.cli("directory", "status"); err != nil || !strings.Contains(st, "directory: up") {
		t.Errorf("directory status after reload: %v %s", err, st)
	}

	// A key file that cannot be read: refused, named, the old key signs on.
	writeFile(in.cfgPath, strings.Replace(withBoth, keyPath, keyPath+".missing", 1))
	out, err = in.cli("reload")
	if err == nil || !strings.Contains(out, "dkim") {
		t.Fatalf("reload with a missing key: %v\n%s", err, out)
	}
	send("tanaka@example.com", "after-refused")
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "after-refused") == 1 })
	if doms := dkimtest.GoVerify(t, byMessageID(sk, "after-refused"), dkimtest.Records{"sg2._domainkey.example.com": rec}); len(doms) != 1 {
		t.Fatal("the refused reload changed the signer")
	}

	// Turning the directory off again: the accountant's mail goes out.
	writeFile(in.cfgPath, base)
	if out, err := in.cli("reload"); err != nil {
		t.Fatalf("reload without directory: %v\n%s", err, out)
	}
	send("suzuki@example.com", "off-again")
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "off-again") == 1 })
	if m := byMessageID(sk, "off-again"); bytes.HasPrefix(m, []byte("DKIM-Signature:")) {
		t.Fatal("still signing after DKIM was removed")
	}
}

// byMessageID is the data of the mail (not a notice) with Message-ID <id@test>.
func byMessageID(sk *sink.Sink, id string) []byte {
	for _, m := range sk.Messages() {
		if m.From != "" && bytes.Contains(m.Data, []byte("Message-ID: <"+id+"@test>")) {
			return m.Data
		}
	}
	return nil
}
