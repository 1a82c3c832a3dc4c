package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/sink"
	"github.com/sendguard/sendguard/internal/slapdtest"
)

const directoryPolicy = `version: 1
rules:
  - name: accounting-external
    when: '"経理部" in sender.groups && recipients.external > 0'
    actions: [hold_approver]
    reason: {ja: 経理部から社外へのメールは上長の承認が必要です, en: Mail from accounting to the outside needs approval}
  - name: unknown-sender
    when: sender.directory == "unavailable" && recipients.external > 0
    actions: [hold_review]
    reason: {ja: 送信者を確認できません, en: The sender could not be checked}
`

// directoryInstance runs sendguard with the OpenLDAP company directory
// and a policy over sender.groups.
func directoryInstance(t *testing.T) (*instance, *slapdtest.Server, *sink.Sink) {
	s := slapdtest.Start(t)
	sk := startSink(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap.pass")
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pw, []byte(slapdtest.Password+"\n"), 0o600)
	os.WriteFile(pol, []byte(directoryPolicy), 0o600)
	in := newInstance(t, sk.Addr, fmt.Sprintf(`policy: %s
hold:
  approvers:
    "*": [security@example.com]
directory:
  ldap:
    url: %s
    bind_dn: %s
    password_file: %s
    base_dn: %s
    group_base_dn: %s
    dial_timeout: 1s
    request_timeout: 2s
  wait: 1s
  retry: 1h
`, pol, s.URL, slapdtest.BindDN, pw, slapdtest.BaseDN, slapdtest.GroupDN))
	in.start()
	return in, s, sk
}

// noticeTo waits for a notice addressed to rcpt.
func noticeTo(t *testing.T, sk *sink.Sink, rcpt, subjectID string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range sk.Messages() {
			if slices.Contains(m.To, rcpt) && strings.Contains(string(m.Data), subjectID) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, m := range sk.Messages() {
		got = append(got, strings.Join(m.To, ","))
	}
	t.Fatalf("no notice to %s about %s; sent to %q", rcpt, subjectID, got)
}

func TestDirectoryApproverAndOutage(t *testing.T) {
	in, s, sk := directoryInstance(t)
	ext := []string{"partner@partner.example.net"}

	// An accountant (by an Exchange alias): held for their manager.
	if err := sendMail(in.smtp, "kei@example.com", ext, testMessage("kei@example.com", ext, "acct-1", "見積書を送ります")); err != nil {
		t.Fatal(err)
	}
	noticeTo(t, sk, "sato@example.com", "acct-1")
	// Sales is not in 経理部: delivered.
	if err := sendMail(in.smtp, "tanaka@example.com", ext, testMessage("tanaka@example.com", ext, "sales-1", "hello")); err != nil {
		t.Fatal(err)
	}
	if len(heldMessages(t, in)) != 1 {
		t.Fatalf("held: %v", heldMessages(t, in))
	}
	out, err := in.cli("directory", "status")
	if err != nil || !strings.Contains(out, "directory: up") || !strings.Contains(out, "2 people") {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, err = in.cli("directory", "lookup", "tanaka@example.com")
	if err != nil || !strings.Contains(out, "department:  営業部") || !strings.Contains(out, "problem:     manager uid=ito") {
		t.Errorf("lookup: %v\n%s", err, out)
	}

	// The directory goes down: the cached accountant is still held for
	// the manager, an unknown sender is held for review, nothing is lost.
	s.Stop()
	start := time.Now()
	if err := sendMail(in.smtp, "kei@example.com", ext, testMessage("kei@example.com", ext, "acct-2", "請求書")); err != nil {
		t.Fatal(err)
	}
	if err := sendMail(in.smtp, "sato@example.com", ext, testMessage("sato@example.com", ext, "acct-3", "請求書")); err != nil {
		t.Fatal(err)
	}
	t.Logf("two messages with the directory down accepted in %v", time.Since(start))
	noticeTo(t, sk, "sato@example.com", "acct-2")
	if got := len(heldMessages(t, in)); got != 3 {
		t.Errorf("held %d, want 3", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err = in.cli("directory", "status")
		if strings.Contains(out, "DOWN since") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out, "DOWN since") || !strings.Contains(out, "serving cached answers") {
		t.Errorf("status while down: %v\n%s", err, out)
	}
	var st struct {
		Up        bool   `json:"up"`
		LastError string `json:"last_error"`
	}
	out, _ = in.cli("directory", "status", "-json")
	if json.Unmarshal([]byte(out), &st) != nil || st.Up || st.LastError == "" || strings.Contains(out, slapdtest.Password) {
		t.Errorf("status json: %s", out)
	}
	resp, err := http.Get("http://" + in.web + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "\nsendguard_directory_up 0\n") {
		t.Error("metrics do not show the directory down")
	}
	if strings.Contains(in.logs(), slapdtest.Password) {
		t.Error("the bind password appears in the log")
	}
}

// check -config looks the -from sender up; without -config it does not.
func TestCheckWithDirectory(t *testing.T) {
	in, _, _ := directoryInstance(t)
	eml := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(eml, testMessage("suzuki@example.com", []string{"p@partner.example.net"}, "chk", "x"), 0o600)
	run := func(args ...string) string {
		b, _ := exec.Command(sendguardBin(t), append([]string{"check"}, args...)...).CombinedOutput()
		return string(b)
	}
	out := run("-config", in.cfgPath, "-json", "-from", "suzuki@example.com", eml)
	var res struct {
		Rules []string `json:"rules"`
		SD    *struct {
			Status     string   `json:"status"`
			Department string   `json:"department"`
			Groups     []string `json:"groups"`
			Manager    string   `json:"manager"`
		} `json:"sender_directory"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.SD == nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.SD.Status != "found" || res.SD.Department != "経理部" || res.SD.Manager != "sato@example.com" ||
		!slices.Contains(res.SD.Groups, "全社員") || !slices.Equal(res.Rules, []string{"accounting-external"}) {
		t.Errorf("check: %s", out)
	}
	if b := run("-json", "-from", "suzuki@example.com", eml); !strings.Contains(b, `"actions"`) || strings.Contains(b, "sender_directory") {
		t.Errorf("check without -config: %s", b)
	}
}

// config check reads the directory settings as serve does.
func TestConfigCheckDirectory(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap.pass")
	os.WriteFile(pw, []byte("x\n"), 0o600)
	cfg := filepath.Join(dir, "c.yaml")
	write := func(filter string) {
		os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
directory:
  ldap:
    url: ldap://127.0.0.1:1
    bind_dn: cn=x
    password_file: %s
    base_dn: dc=example,dc=com
    user_filter: '%s'
`, dir, pw, filter)), 0o600)
	}
	write("(&(mail={addr})(objectClass=user)")
	out, err := exec.Command(sendguardBin(t), "config", "check", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "user_filter") {
		t.Errorf("a broken filter passed: %v\n%s", err, out)
	}
	write("(&(mail={addr})(objectClass=user))")
	if out, err := exec.Command(sendguardBin(t), "config", "check", cfg).CombinedOutput(); err != nil {
		t.Errorf("%v\n%s", err, out)
	}
}
