package link

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"github.com/sendguard/sendguard/internal/browsertest"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserLink runs e2e/link.mjs in headless Chromium against a real
// store and handler: request a code, type the code captured from the mail
// (served to the script on a second loopback port), download and compare
// bytes, revoke, see the clear page. It skips when node, chromium or
// e2e/node_modules are missing, unless CI is set.
func TestBrowserLink(t *testing.T) {
	node, script := browsertest.Script(t, "link.mjs")
	artifacts := browsertest.Artifacts(t, "link")

	// The browser runs on the wall clock: so does this store.
	e := newEnv(t, func(o *Options, c *Config) { o.Now, c.Now = time.Now, time.Now })
	body := make([]byte, 700<<10)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	p := e.pkg(FileIn{Name: "見積書 <2026>.pdf", Type: "application/pdf", Reader: strings.NewReader(string(body))})
	p.Recipients = p.Recipients[:1]
	p.Expires = time.Now().Add(time.Hour)
	c := e.create(p)
	sum := sha256.Sum256(body)

	// The code endpoint: the last code mailed, as the recipient would read it.
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.mails) == 0 {
			http.NotFound(w, r)
			return
		}
		m := codeRE.FindSubmatch(e.mails[len(e.mails)-1].Msg)
		if m == nil {
			http.Error(w, "no code in mail", http.StatusInternalServerError)
			return
		}
		w.Write(append(m[1], m[2]...))
	}))
	defer codes.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, e.h.Link(c.Links[0].Token.Text()), e.h.RevokeLink(c.RevokeToken.Text()),
		codes.URL+"/code", hex.EncodeToString(sum[:]), artifacts)
	cmd.Dir = filepath.Dir(script)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("link.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("link.mjs: %v", err)
	}
	info, err := e.store.Get(context.Background(), c.ID)
	if err != nil || info.RevokedAt.IsZero() || info.Files[0].Downloads != 1 {
		t.Errorf("after the browser: %v revoked=%v downloads=%d", err, info.RevokedAt, info.Files[0].Downloads)
	}
	log, _ := e.store.Log(context.Background(), p.MessageID)
	if len(log) != 1 || !strings.Contains(log[0].UserAgent, "Chrome") || log[0].IP != "127.0.0.1" {
		t.Errorf("download log %+v", log)
	}
	for _, f := range []string{"link-page.png", "link-code-form.png", "link-verified.png", "link-sender-log.png",
		"link-revoked-sender.png", "link-revoked.png", "link-revoked-ja-phone.png"} {
		if !browsertest.Exists(filepath.Join(artifacts, f)) {
			t.Errorf("screenshot %s missing", f)
		}
	}
}
