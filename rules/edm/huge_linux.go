//go:build linux

package edm

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on the platforms Go
// runs Linux on most (x86-64, arm64 with 4 KB base pages).
const hugePage = 2 << 20

// hugeBytes returns n zero bytes on whole huge pages, advised to the kernel
// as such (MADV_HUGEPAGE), so that the filter's and the table's random
// reads each cost a cache miss but not also a TLB miss and its page walk
// (one 4 KB page of 65 MB in 16,000): measured, most of what a probe costs
// inside a real analysis. The memory stays the Go heap's: the advice only
// changes how the kernel backs it, and where it is refused (THP off) the
// bytes are ordinary ones.
func hugeBytes(n int) []byte {
	if n < hugePage {
		return make([]byte, n)
	}
	b := make([]byte, n+hugePage)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (hugePage - 1))
	b = b[off : off+n : off+n]
	advise(b, unix.MADV_HUGEPAGE)
	return b
}

// settleHuge asks the kernel to back b, once written, by huge pages now
// (MADV_COLLAPSE): memory the heap had already faulted in on small pages
// (reused after a reload) is not turned over at fault time.
func settleHuge(b []byte) {
	if len(b) >= hugePage {
		advise(b, unix.MADV_COLLAPSE)
	}
}

// advise applies advice to the whole pages inside b; errors are ignored,
// the advice being only that.
func advise(b []byte, advice int) {
	const page = 4096
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s := (start + page - 1) &^ (page - 1)
	e := (start + uintptr(len(b))) &^ (page - 1)
	if e <= s {
		return
	}
	_ = unix.Madvise(b[s-start:e-start], advice)
}
