package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Page is one page e2e/pages.mjs looks at, at a desktop and a phone size.
type Page struct {
	Name     string   `json:"name"` // screenshot file prefix
	URL      string   `json:"url"`
	Lang     string   `json:"lang,omitempty"`
	Expect   []string `json:"expect,omitempty"`
	Absent   []string `json:"absent,omitempty"`
	Order    []string `json:"order,omitempty"`
	Click    []string `json:"click,omitempty"`
	Checked  []string `json:"checked,omitempty"`
	Enabled  []string `json:"enabled,omitempty"`
	Disabled []string `json:"disabled,omitempty"`
}

// CheckPages runs e2e/pages.mjs over pages; screenshots go to
// Artifacts(t, sub).
func CheckPages(t testing.TB, sub string, pages []Page) {
	t.Helper()
	node, script := Script(t, "pages.mjs")
	spec, err := json.Marshal(map[string]any{"pages": pages})
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(t.TempDir(), "pages.json")
	if err := os.WriteFile(specPath, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, specPath, Artifacts(t, sub))
	cmd.Dir = filepath.Dir(script)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("pages.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("pages.mjs: %v", err)
	}
	for _, p := range pages {
		for _, size := range []string{"desktop", "phone"} {
			if f := filepath.Join(Artifacts(t, sub), p.Name+"-"+size+".png"); !Exists(f) {
				t.Errorf("screenshot %s missing", f)
			}
		}
	}
}
