package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/slapdtest"
)

const salesApprovalPolicy = `version: 1
rules:
  - name: sales-external
    when: '"営業部" in sender.groups && recipients.external > 0'
    actions: [hold_approver]
    params: {approvals_required: 2}
    reason: {ja: 営業部から社外へのメールは 2 名の承認が必要です, en: Mail from sales to the outside needs two approvals}
`

// Two of several approvers, gathered from the real directory: nakamura's
// manager kimura is away (group 不在), so her secretary kato is asked in
// her stead, with the approver group (sato, yamada). One approval by
// link leaves the mail held, a repeat counts nothing, the second
// approver's releases it to the next hop.
func TestTwoApprovalsWithDeputyFromDirectory(t *testing.T) {
	s := slapdtest.Start(t)
	sk := startSink(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap.pass")
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pw, []byte(slapdtest.Password+"\n"), 0o600)
	os.WriteFile(pol, []byte(salesApprovalPolicy), 0o600)
	in := newInstance(t, sk.Addr, fmt.Sprintf(`policy: %s
directory:
  ldap:
    url: %s
    bind_dn: %s
    password_file: %s
    base_dn: %s
    group_base_dn: %s
    attributes: {deputy: secretary}
  approvers: [manager, group]
  approver_group: cn=承認者,ou=groups,dc=example,dc=com
  absent_group: 不在
  wait: 2s
`, pol, s.URL, slapdtest.BindDN, pw, slapdtest.BaseDN, slapdtest.GroupDN))
	in.start()

	ext := []string{"buyer@partner.example.net"}
	if err := sendMail(in.smtp, "nakamura@example.com", ext, testMessage("nakamura@example.com", ext, "quote-2of3", "見積書")); err != nil {
		t.Fatal(err)
	}
	kato := linkRE.FindString(waitNotice(t, sk, "kato@example.com", "deputy of kimura@example.com, who is away"))
	sato := linkRE.FindString(waitNotice(t, sk, "sato@example.com", "/h/"))
	waitNotice(t, sk, "yamada@example.com", "/h/")
	for _, m := range sk.Messages() {
		if len(m.To) == 1 && m.To[0] == "kimura@example.com" {
			t.Fatal("the absent manager was asked instead of her deputy")
		}
	}

	f, page := pageForm(t, kato+"?lang=en")
	if !strings.Contains(page, "0 of 2 approvals") {
		t.Fatalf("approve page lacks the count:\n%.2000s", page)
	}
	f.Set("action", "approve")
	if code, body := post(t, kato+"?lang=en", f); code != 200 || !strings.Contains(body, "1 of 2 approvals (kato@example.com)") {
		t.Fatalf("first approval: %d %.1500s", code, body)
	}
	time.Sleep(500 * time.Millisecond)
	if countByID(sk, "quote-2of3") != 0 {
		t.Fatal("released after one approval of two")
	}
	out, err := in.cli("queue", "list", "-json")
	id := regexp.MustCompile(`"id":\s*"([^"]+)"`).FindStringSubmatch(out)
	if err != nil || id == nil {
		t.Fatalf("queue list: %v %s", err, out)
	}
	f, _ = pageForm(t, sato)
	f.Set("action", "approve")
	if code, body := post(t, sato, f); code != 200 {
		t.Fatalf("second approval: %d %.1500s", code, body)
	}
	waitFor(t, 15*time.Second, func() bool { return countByID(sk, "quote-2of3") == 1 })

	// The audit trail: hold, kato's approval, sato's release.
	hist, err := in.cli("queue", "history", id[1])
	if err != nil || !regexp.MustCompile(`(?s)hold.*kato@example\.com.*approve.*approval 1 of 2.*sato@example\.com.*release`).MatchString(hist) {
		t.Errorf("history: %v\n%s", err, hist)
	}
	// sendguard queue show links the same queue ID in the console.
	if show, err := in.cli("queue", "show", id[1]); err != nil || !strings.Contains(show, "/console/msg/"+id[1]) {
		t.Errorf("queue show: %v\n%s", err, show)
	}
	logs := in.logs()
	if !strings.Contains(logs, "approver is absent; asking their deputy") {
		t.Errorf("the log does not say the deputy was asked:\n%.3000s", logs)
	}
}
