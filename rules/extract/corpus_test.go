package extract

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestCorpus walks every file of the public corpus (mail and not): no
// panic, no hang, bounded time per file, and every yielded part well
// formed. The corpus lives outside the repository: SENDGUARD_CORPUS names
// it (and makes its absence a failure); by default the shared checkout is
// used when present.
func TestCorpus(t *testing.T) {
	corpusDir := os.Getenv("SENDGUARD_CORPUS")
	if _, err := os.Stat(corpusDir); corpusDir == "" || err != nil {
		if corpusDir != "" {
			t.Fatalf("corpus %s: %v", corpusDir, err)
		}
		corpusDir = "/work/shared/corpus/public"
		if _, err := os.Stat(corpusDir); err != nil {
			t.Skipf("corpus not present (set SENDGUARD_CORPUS): %v", err)
		}
	}
	var files []string
	_ = filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 50 {
		t.Fatalf("only %d corpus files", len(files))
	}
	lim := DefaultLimits()
	lim.Timeout = 10 * time.Second
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		parts := 0
		msg, err := Walk(context.Background(), bytes.NewReader(data), lim, func(pt *Part) error {
			parts++
			if pt.Location == "" {
				t.Errorf("%s: empty location", p)
			}
			if int64(len(pt.Text)) > lim.MaxPartText {
				t.Errorf("%s: text over limit", p)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if d := time.Since(start); d > 12*time.Second {
			t.Errorf("%s: took %v", p, d)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// allocation, not just retention: a walk must not allocate in
		// proportion to more than a few copies of its input
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20+uint64(20*len(data)) {
			t.Errorf("%s: allocated %d bytes for %d bytes of input", p, alloc, len(data))
		}
		if msg.Size != int64(len(data)) && !msg.Incomplete {
			t.Errorf("%s: read %d of %d bytes", p, msg.Size, len(data))
		}
		if testing.Verbose() {
			t.Logf("%s: %d parts, %d errors %q", p[len(corpusDir):], parts, len(msg.Errors), msg.Errors)
			t.Logf("  allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10)
		}
	}
}
