package web

import (
	"context"
	"github.com/sendguard/sendguard/internal/browsertest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

// TestBrowserConfirm runs e2e/confirm.mjs in headless Chromium against a
// real handler and store: Send stays disabled until every box is ticked,
// then the message is released exactly once. It skips when node, chromium
// or e2e/node_modules are missing, unless CI is set.
func TestBrowserConfirm(t *testing.T) {
	node, script := browsertest.Script(t, "confirm.mjs")
	artifacts := browsertest.Artifacts(t, "")

	e := newEnv(t, nil)
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	tok := e.token(id, hold.RoleSender, time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, e.url(tok), artifacts)
	cmd.Dir = filepath.Dir(script)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("confirm.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("confirm.mjs: %v", err)
	}
	rec := e.record(id)
	if rec.State != hold.StateReleased || rec.Mode != hold.ModeAsIs {
		t.Errorf("record %s/%s", rec.State, rec.Mode)
	}
	if n := e.releases.Load(); n != 1 {
		t.Errorf("OnRelease called %d times", n)
	}
	if !strings.Contains(rec.DecidedBy.UserAgent, "Chrome") || rec.DecidedBy.IP != "127.0.0.1" {
		t.Errorf("actor %+v", rec.DecidedBy)
	}
	for _, f := range []string{"confirm-page.png", "confirm-page-phone-ja.png", "confirm-ticked.png", "confirm-done.png", "confirm-already-phone.png"} {
		if !browsertest.Exists(filepath.Join(artifacts, f)) {
			t.Errorf("screenshot %s missing", f)
		}
	}
}
