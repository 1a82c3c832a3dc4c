package extract

import (
	"context"
	"encoding/base64"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// genMail streams a message with a large base64 text attachment and a
// large binary one without holding either in memory.
type genMail struct {
	stages []func() []byte
	buf    []byte
}

func newGenMail(textLines, binLines int) *genMail {
	line := base64.StdEncoding.EncodeToString([]byte("山田太郎,東京都千代田区丸の内1-1-1,090-1111-2222,")) // 57 bytes -> 76
	bin := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00\x01\x02\xff", 14) + "\x7f"))
	once := func(s string) func() []byte {
		done := false
		return func() []byte {
			if done {
				return nil
			}
			done = true
			return []byte(s)
		}
	}
	repeat := func(s string, n int) func() []byte {
		chunk := []byte(strings.Repeat(s+"\r\n", 1000)) // reused: the generator must not allocate
		return func() []byte {
			if n == 0 {
				return nil
			}
			k := min(n, 1000)
			n -= k
			return chunk[:k*(len(s)+2)]
		}
	}
	return &genMail{stages: []func() []byte{
		once("From: a@example.com\r\nTo: b@partner.co.jp\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n" +
			"Content-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=big.csv\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
		repeat(line, textLines),
		once("\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
		repeat(bin, binLines),
		once("\r\n--B--\r\n"),
	}}
}

func (g *genMail) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if len(g.stages) == 0 {
			return 0, io.EOF
		}
		if b := g.stages[0](); b != nil {
			g.buf = b
		} else {
			g.stages = g.stages[1:]
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestMemoryBounded streams a 100 MiB message: the heap must stay near the
// per-part text limit plus the replay copy, not grow with the message.
func TestMemoryBounded(t *testing.T) {
	const lines = 640_000 // 78 bytes each: ~48 MiB per attachment
	lim := DefaultLimits()
	lim.MaxPartText = 1 << 20
	lim.MaxFallback = 1 << 20 // kept in memory for a reader that cannot seek
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	var parts int
	m, err := Walk(context.Background(), newGenMail(lines, lines), lim, func(p *Part) error {
		parts++
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if parts != 2 || m.Size < 90<<20 {
		t.Fatalf("%d parts, %d bytes", parts, m.Size)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("message %d MiB, peak heap growth %.1f MiB", m.Size>>20, float64(growth)/(1<<20))
	if growth > 12<<20 {
		t.Errorf("peak heap grew %d MiB for a %d MiB message", growth>>20, m.Size>>20)
	}
}
