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

// hugeUint32s gives n zero uint32s, on a huge page when they fill one
// (checkptr, under -race, checks the conversion).
func TestHugeUint32s(t *testing.T) {
	for _, n := range []int{1, 3, hugePage/4 - 1, hugePage / 4, hugePage/4 + 5} {
		u := hugeUint32s(n)
		if len(u) != n {
			t.Fatalf("hugeUint32s(%d): len %d", n, len(u))
		}
		for i := range u {
			if u[i] != 0 {
				t.Fatalf("hugeUint32s(%d)[%d] = %d", n, i, u[i])
			}
			u[i] = uint32(i)
		}
		if u[n-1] != uint32(n-1) {
			t.Fatal("last element lost")
		}
		if runtime.GOOS == "linux" && 4*n >= hugePage && uintptr(unsafe.Pointer(&u[0]))%hugePage != 0 {
			t.Errorf("hugeUint32s(%d) at %p: not on a huge page", n, &u[0])
		}
	}
}
