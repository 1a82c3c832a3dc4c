package spillbuf

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// TestSameBytesInMemoryAndSpilled: writes, cuts and reads give the same
// content whether the buffer stays in memory or spills past MemLimit, and
// a spilled buffer leaves no file behind in its directory.
func TestSameBytesInMemoryAndSpilled(t *testing.T) {
	for _, total := range []int{0, 1000, MemLimit, MemLimit + 1, 3*MemLimit + 17} {
		dir := t.TempDir()
		b := New(dir, "test")
		rng := rand.New(rand.NewPCG(uint64(total), 1))
		var want []byte
		for len(want) < total {
			p := make([]byte, min(1+rng.IntN(70000), total-len(want)))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			if _, err := b.Write(p); err != nil {
				t.Fatal(err)
			}
			want = append(want, p...)
			if rng.IntN(3) == 0 && len(want) > 0 {
				// overwrite earlier bytes, then go on appending
				off := rng.IntN(len(want))
				q := make([]byte, min(1+rng.IntN(100), len(want)-off))
				for i := range q {
					q[i] = byte(rng.Uint32())
				}
				if n, err := b.WriteAt(q, int64(off)); err != nil || n != len(q) {
					t.Fatalf("WriteAt: %d, %v", n, err)
				}
				copy(want[off:], q)
			}
			if rng.IntN(4) == 0 {
				cut := rng.IntN(len(want) + 1)
				if err := b.Truncate(int64(cut)); err != nil {
					t.Fatal(err)
				}
				want = want[:cut]
			}
		}
		if b.Size() != int64(len(want)) {
			t.Fatalf("size %d, want %d", b.Size(), len(want))
		}
		if _, err := b.WriteAt([]byte{1}, b.Size()); err == nil {
			t.Fatal("WriteAt past the end accepted")
		}
		sr, err := b.Section()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(sr)
		if !bytes.Equal(got, want) {
			t.Fatalf("total %d: section differs", total)
		}
		var out bytes.Buffer
		if err := b.CopyTo(&out, make([]byte, 4096)); err != nil || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("total %d: CopyTo differs (%v)", total, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("temp file left visible: %v", ents)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		// reusable after Close
		b.WriteString("again")
		sr, _ = b.Section()
		if got, _ := io.ReadAll(sr); string(got) != "again" {
			t.Fatalf("after close: %q", got)
		}
		b.Close()
	}
}

func TestTruncateOutOfRange(t *testing.T) {
	b := New(t.TempDir(), "test")
	b.WriteString("abc")
	if b.Truncate(4) == nil || b.Truncate(-1) == nil {
		t.Fatal("out-of-range truncate accepted")
	}
}

func TestSpillsOnlyPastLimit(t *testing.T) {
	b := New(t.TempDir(), "test")
	defer b.Close()
	b.Write(make([]byte, MemLimit))
	if b.Spilled() {
		t.Fatal("spilled at the limit")
	}
	b.Write([]byte{1})
	if !b.Spilled() {
		t.Fatal("not spilled past the limit")
	}
}
