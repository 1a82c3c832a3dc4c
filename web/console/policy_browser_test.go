package console

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/reports"
)

// TestBrowserPolicyPages drives e2e/policy.mjs in the system Chromium:
// the dashboard's shadow-vs-live table, a replay of a pasted candidate
// over a stored fixture with a known diff (7 messages change over 7
// days, 2.0 held a day), a candidate that does not load, and the rule
// outcomes page with its trend plot; screenshots go to
// test-artifacts/policy/.
func TestBrowserPolicyPages(t *testing.T) {
	node, script := browsertest.Script(t, "policy.mjs")
	var rs *reports.Bolt
	e := newEnv(t, func(c *Config) { c.Reports = &lateScanner{&rs} })
	scriptHolds(t, e) // moves the clock a week on: the fixture is stored after
	rs = storeFixture(t, e, 7)
	e.addUser("sato", RoleViewer)
	week := reports.WeeksSince(e.clock.Now(), 2, time.UTC).Format("2006-01-02")

	shots := browsertest.Artifacts(t, "policy")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Join(browsertest.Root(t), "e2e")
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL="+e.srv.URL+"/console/",
		"CONSOLE_USER=sato", "CONSOLE_PASSWORD="+testPassword, "CONSOLE_CODE="+e.code("sato"),
		"CANDIDATE="+replayCandidate, "EXPECT_CHANGED=7", "EXPECT_NEW_PER_DAY=2.0",
		"OUTCOME_RULE=mass-exposure", "OUTCOME_WEEK="+week, "EXPECT_CATCH=75%",
		"ARTIFACTS="+shots, "USER_DATA_DIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("policy.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("policy.mjs: %v", err)
	}
	for _, name := range []string{"01-dashboard-shadow.png", "03-replay-result.png", "04-outcomes.png"} {
		if !browsertest.Exists(filepath.Join(shots, name)) {
			t.Errorf("no screenshot %s", name)
		}
	}
}
