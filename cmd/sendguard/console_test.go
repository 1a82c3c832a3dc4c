package main

import (
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleMountedWithAccounts: the console is served on web.listen
// behind sign-in, and `sendguard user add` enrols an account with TOTP.
func TestConsoleMountedWithAccounts(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	in.start()
	cmd := exec.Command(sendguardBin(t), "user", "add", "secteam", "-role", "reviewer", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "otpauth://totp/") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "a long enough passphrase") {
		t.Fatal("the password was echoed")
	}
	cmd = exec.Command(sendguardBin(t), "user", "add", "secteam", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader("another passphrase\n")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a duplicate user was added: %s", out)
	}
	// user list, disable, enable, delete; names that are options are refused.
	if out, err := in.cli("user", "list"); err != nil || !regexp.MustCompile(`secteam\s+reviewer\s+active\s+yes`).MatchString(out) {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if out, err := in.cli("user", "disable", "secteam"); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("user disable: %v\n%s", err, out)
	}
	if out, _ := in.cli("user", "list"); !regexp.MustCompile(`secteam\s+reviewer\s+disabled`).MatchString(out) {
		t.Fatalf("user list after disable:\n%s", out)
	}
	if out, err := in.cli("user", "enable", "secteam"); err != nil || !strings.Contains(out, "enabled") {
		t.Fatalf("user enable: %v\n%s", err, out)
	}
	cmd = exec.Command(sendguardBin(t), "user", "add", "-h", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "usage") {
		t.Fatalf("user add -h: %v\n%s", err, out)
	}
	if out, _ := in.cli("user", "list"); strings.Contains(out, "-h") {
		t.Fatalf("user add -h created a user:\n%s", out)
	}
	if out, err := in.cli("user", "delete", "nobody"); err == nil || !strings.Contains(out, "no such user") {
		t.Fatalf("delete of an unknown user: %v\n%s", err, out)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + in.web + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("console without a session: %s, want a redirect to sign-in", resp.Status)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("console CSP = %q", csp)
	}
	resp, err = c.Get("http://" + in.web + resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in page: %s", resp.Status)
	}
}

func TestUserDelete(t *testing.T) {
	in := newInstance(t, startSink(t).Addr, "")
	in.start()
	cmd := exec.Command(sendguardBin(t), "user", "add", "temp", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader("a long enough passphrase\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := in.cli("user", "delete", "temp"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("user delete: %v\n%s", err, out)
	}
	if out, _ := in.cli("user", "list"); strings.Contains(out, "temp") || !strings.Contains(out, "0 account(s)") {
		t.Fatalf("user list after delete:\n%s", out)
	}
}
