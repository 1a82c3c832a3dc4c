package outbound

import (
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeliver sends 10 KB messages into the in-process sink over
// pooled connections ("reuse") and over a new connection per message
// ("new"), in plain text and with STARTTLS; the "-1KB" cases send small
// mail, where a delivery's fixed cost shows most. cpu-µs/op is the
// process's CPU time per delivery, client and sink together. Compare
// within one run:
//
//	go test ./gateway/outbound -run '^$' -bench Deliver -benchtime 1000x
func BenchmarkDeliver(b *testing.B) {
	head := "From: a@example.com\r\nTo: b@x.test\r\nSubject: bench\r\n\r\n"
	line := strings.Repeat("x", 76) + "\r\n"
	srvTLS, _ := selfSigned(b)
	for _, tc := range []struct {
		name  string
		tls   bool
		reuse bool
		size  int
	}{
		{"plain/reuse", false, true, 10240}, {"plain/new", false, false, 10240},
		{"starttls/reuse", true, true, 10240}, {"starttls/new", true, false, 10240},
		{"plain/reuse-1KB", false, true, 1024}, {"starttls/reuse-1KB", true, true, 1024},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := head + strings.Repeat(line, tc.size/len(line))
			o := sinkOpts{discard: true}
			policy := TLSNone
			if tc.tls {
				o.tls, policy = srvTLS, TLSRequired
			}
			s := startSink(b, o)
			cfg := Config{NextHop: relay(s), TLS: policy, HeloName: "gw.example.com", MaxMsgsPerConn: 1 << 30}
			if !tc.reuse {
				cfg.IdleTimeout = -1
			}
			c, err := New(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			env := Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@x.test"}, Size: int64(len(msg))}
			ctx := context.Background()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			start, cpu0 := time.Now(), processCPU()
			for b.Loop() {
				if r := c.Deliver(ctx, env, bodyOf(msg)); !r[0].Delivered {
					b.Fatalf("not delivered: %+v", r[0])
				}
			}
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			accepted, _, _ := s.stats()
			b.ReportMetric(float64(accepted), "conns")
		})
	}
}
