package main

import (
	"net/http"
	"os/exec"
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
