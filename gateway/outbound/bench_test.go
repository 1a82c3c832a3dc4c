package outbound

import (
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeliver sends 10 KB messages into the in-process sink over
// pooled connections ("reuse") and over a new connection per message
// ("new"), in plain text and with STARTTLS. Compare ns/op within one run:
//
//	go test ./gateway/outbound -run '^$' -bench Deliver -benchtime 1000x
func BenchmarkDeliver(b *testing.B) {
	body := strings.Repeat(strings.Repeat("x", 76)+"\r\n", 10240/78)
	msg := "From: a@example.com\r\nTo: b@x.test\r\nSubject: bench\r\n\r\n" + body
	srvTLS, _ := selfSigned(b)
	for _, tc := range []struct {
		name  string
		tls   bool
		reuse bool
	}{{"plain/reuse", false, true}, {"plain/new", false, false}, {"starttls/reuse", true, true}, {"starttls/new", true, false}} {
		b.Run(tc.name, func(b *testing.B) {
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
			start := time.Now()
			for b.Loop() {
				if r := c.Deliver(ctx, env, bodyOf(msg)); !r[0].Delivered {
					b.Fatalf("not delivered: %+v", r[0])
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			accepted, _, _ := s.stats()
			b.ReportMetric(float64(accepted), "conns")
		})
	}
}
