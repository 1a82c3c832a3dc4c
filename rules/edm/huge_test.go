package edm

import (
	"runtime"
	"testing"
	"unsafe"
)

// hugeBytes gives n zero bytes, no more (the index is parsed from them), on
// a huge page boundary on Linux when n is a huge page or more.
func TestHugeBytes(t *testing.T) {
	for _, n := range []int{0, 1, 4095, 2<<20 - 1, 2 << 20, 5<<20 + 123} {
		b := hugeBytes(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("hugeBytes(%d): len %d cap %d", n, len(b), cap(b))
		}
		for i, c := range b {
			if c != 0 {
				t.Fatalf("hugeBytes(%d)[%d] = %d", n, i, c)
			}
		}
		if runtime.GOOS == "linux" && n >= 2<<20 && uintptr(unsafe.Pointer(&b[0]))%(2<<20) != 0 {
			t.Errorf("hugeBytes(%d) at %p: not on a huge page", n, &b[0])
		}
		for i := range b {
			b[i] = byte(i)
		}
		settleHuge(b)
		for i, c := range b {
			if c != byte(i) {
				t.Fatalf("settleHuge changed byte %d of %d", i, n)
			}
		}
	}
}
