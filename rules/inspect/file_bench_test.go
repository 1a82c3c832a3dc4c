package inspect

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// BenchmarkMailFile is the whole analysis of the mail in the file
// SENDGUARD_BENCH_EML (for instance one of sendguard-bench's corpus with
// -dir and -keep), to an external recipient; skipped when unset.
func BenchmarkMailFile(b *testing.B) {
	path := os.Getenv("SENDGUARD_BENCH_EML")
	if path == "" {
		b.Skip("SENDGUARD_BENCH_EML not set")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	in := newTest(b)
	env := Envelope{MailFrom: "yamada.1@example.com", Rcpts: []string{"contact1@torihiki.co.jp"}}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		// A reader over the bytes read once: converting them to a string
		// each round copied the whole mail inside the measurement.
		if _, err := in.Inspect(context.Background(), bytes.NewReader(raw), env); err != nil {
			b.Fatal(err)
		}
	}
}
