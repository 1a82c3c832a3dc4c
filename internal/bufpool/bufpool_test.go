package bufpool

import (
	"bytes"
	"strings"
	"testing"
)

func TestCopyAndWriter(t *testing.T) {
	src := strings.Repeat("0123456789", 20000) // several buffers' worth
	var dst bytes.Buffer
	if n, err := Copy(&dst, strings.NewReader(src)); err != nil || n != int64(len(src)) || dst.String() != src {
		t.Fatalf("Copy: %d %v", n, err)
	}
	for i := 0; i < 3; i++ {
		var out bytes.Buffer
		w := Writer(&out)
		w.WriteString("abandoned")
		PutWriter(w) // unflushed bytes of the last user never reach the next
		w = Writer(&out)
		w.WriteString(src)
		if err := w.Flush(); err != nil || out.String() != src {
			t.Fatalf("round %d: %d bytes, %v", i, out.Len(), err)
		}
		PutWriter(w)
	}
	b := Get()
	if len(*b) != CopySize {
		t.Fatalf("Get: %d bytes", len(*b))
	}
	Put(b)
}

func TestPooledCopyDoesNotAllocate(t *testing.T) {
	src := strings.NewReader(strings.Repeat("x", 100<<10))
	var sink countWriter
	Copy(&sink, src) // warm the pool
	allocs := testing.AllocsPerRun(20, func() {
		src.Seek(0, 0)
		Copy(&sink, onlyReader{src})
	})
	if allocs > 1 {
		t.Fatalf("%.1f allocations per copy", allocs)
	}
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// onlyReader hides WriterTo so the copy goes through the buffer.
type onlyReader struct{ r *strings.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
