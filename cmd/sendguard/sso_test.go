package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSSOProviderDownKeepsMailAndLocalSignIn runs the binary with console
// single sign-on pointing at a provider that does not answer: sendguard
// starts, takes mail at once, the sign-in page says SSO is unavailable and
// still offers local sign-in, and the client secret never reaches the log.
func TestSSOProviderDownKeepsMailAndLocalSignIn(t *testing.T) {
	sk := startSink(t)
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	const secretValue = "do-not-log-this-client-secret"
	if err := os.WriteFile(secret, []byte(secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	down := freePort(t) // reserved and closed: nothing listens there
	in := newInstance(t, sk.Addr, fmt.Sprintf(`console:
  oidc:
    issuer: http://%s/realms/corp
    client_id: sendguard-console
    client_secret_file: %s
    roles:
      reviewer: [sec-team]
`, down, secret))
	started := time.Now()
	in.start()
	if err := sendMail(in.smtp, "alice@example.com", []string{"bob@example.com"}, testMessage("alice@example.com", []string{"bob@example.com"}, "sso-down", "hello")); err != nil {
		t.Fatalf("mail while the provider is down: %v", err)
	}
	if d := time.Since(started); d > 8*time.Second {
		t.Fatalf("start and first mail took %s: something waited for the provider", d)
	}
	resp, err := http.Get("http://" + in.web + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="sso-down"`) || !strings.Contains(page, `id="login-form"`) {
		t.Fatalf("sign-in page with the provider down: %s\n%s", resp.Status, page)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(in.logs(), "single sign-on unavailable") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	logs := in.logs()
	if !strings.Contains(logs, "single sign-on unavailable") {
		t.Fatalf("no log line about the unreachable provider:\n%s", logs)
	}
	if strings.Contains(logs, secretValue) {
		t.Fatal("the client secret was logged")
	}
}
