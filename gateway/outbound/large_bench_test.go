package outbound

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkDeliverLarge sends a 4 MB base64 body from a spooled file into
// the in-process sink over one pooled connection; cpu-µs/op counts client
// and sink (both go-smtp).
//
//	go test ./gateway/outbound -run '^$' -bench DeliverLarge -benchtime 100x
func BenchmarkDeliverLarge(b *testing.B) {
	line := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 3)[:76] + "\r\n"
	body := "From: a@example.com\r\nTo: b@x.test\r\nSubject: bench\r\n\r\n" + strings.Repeat(line, (4<<20)/len(line))
	path := filepath.Join(b.TempDir(), "body")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		b.Fatal(err)
	}
	s := startSink(b, sinkOpts{discard: true})
	c, err := New(Config{NextHop: relay(s), TLS: TLSNone, HeloName: "gw.example.com", MaxMsgsPerConn: 1 << 30}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}, Size: int64(len(body))}
	b.SetBytes(int64(len(body)))
	cpu0 := processCPU()
	for b.Loop() {
		if r := c.Deliver(context.Background(), env, open); !r[0].Delivered {
			b.Fatalf("not delivered: %+v", r[0])
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	}
}
