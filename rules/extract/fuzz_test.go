package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzWalk feeds arbitrary messages to Walk: it must not panic, must stay
// within its limits and must describe every part it yields.
func FuzzWalk(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue // the zip bomb: too slow a seed for a fuzzer
		}
		f.Add(data)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n--x--"))
	lim := Limits{MaxDepth: 3, MaxEntries: 50, MaxInflated: 4 << 20, MaxRatio: 50, MaxPartText: 64 << 10,
		MaxMemory: 1 << 20, MaxAttachment: 2 << 20, Timeout: 2 * time.Second, PDFTimeout: time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Walk(context.Background(), bytes.NewReader(data), lim, func(p *Part) error {
			if p.Location == "" {
				t.Error("empty location")
			}
			if int64(len(p.Text)) > lim.MaxPartText {
				t.Errorf("%s: %d bytes of text", p.Location, len(p.Text))
			}
			if p.Attachment != nil && p.Attachment.Depth > lim.MaxDepth {
				t.Errorf("%s: depth %d", p.Location, p.Attachment.Depth)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Errors) > maxErrors+1 {
			t.Errorf("%d errors", len(m.Errors))
		}
	})
}
