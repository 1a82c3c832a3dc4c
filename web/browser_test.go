package web

import (
	"context"
	"github.com/sendguard/sendguard/internal/browsertest"
	"image/png"
	"os"
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

// TestBrowserScreenshotRetry runs e2e/screenshot-retry.mjs: the scripts'
// shared screenshot helper retries headless Chromium's transient "Unable
// to capture screenshot" and writes the PNG, but rethrows any other error
// at once and still fails when every capture fails.
func TestBrowserScreenshotRetry(t *testing.T) {
	node, script := browsertest.Script(t, "screenshot-retry.mjs")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, dir)
	cmd.Dir = filepath.Dir(script)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("screenshot-retry.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("screenshot-retry.mjs: %v", err)
	}
	// The page is 1500px tall in a 480px viewport: a full-page capture
	// holds all of it.
	for _, f := range []struct {
		name      string
		minHeight int
	}{{"retried-page.png", 1500}, {"retried-element.png", 1}} {
		fh, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(fh)
		fh.Close()
		if err != nil || cfg.Width == 0 || cfg.Height < f.minHeight {
			t.Errorf("%s: %v, %dx%d", f.name, err, cfg.Width, cfg.Height)
		}
	}
}
