package console

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/browsertest"
)

// TestBrowserSSO drives e2e/sso.mjs in the system Chromium against a real
// OpenID Provider: "Sign in with SSO", the provider's login page, back to
// the console signed in as reviewer; then a user in no mapped group sees
// the refusal page. Screenshots go to test-artifacts/console-sso/.
func TestBrowserSSO(t *testing.T) {
	node, script := browsertest.Script(t, "sso.mjs")
	root := browsertest.Root(t)
	e, _ := ssoEnv(t, nil)
	shots := browsertest.Artifacts(t, "console-sso")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+e.srv.URL+"/console/", "USER_OK=rev", "USER_REFUSED=out",
		"IDP_PASSWORD="+opPassword, "ARTIFACTS="+shots, "USER_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("sso.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("sso.mjs: %v", err)
	}
	if ev := lastEvent(t, e, auditSignIn); ev.Actor.Name != "rev" || ev.Actor.Role != RoleReviewer || !strings.Contains(ev.Reason, "sign-in via OIDC") {
		t.Fatalf("sign-in event: %+v", ev)
	}
	if ev := lastEvent(t, e, auditSignInFailed); ev.Actor.Name != "out" || !strings.Contains(ev.Reason, "no mapped group") {
		t.Fatalf("refusal event: %+v", ev)
	}
	for _, name := range []string{"01-login-sso.png", "02-provider-login.png", "03-signed-in-reviewer.png", "04-refused.png"} {
		if st, err := os.Stat(filepath.Join(shots, name)); err != nil || st.Size() < 3000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
