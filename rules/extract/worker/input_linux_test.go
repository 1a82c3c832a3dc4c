package worker

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// A large input lands in huge pages where the kernel offers them (the
// default "madvise" mode), a small one on the Go heap.
func TestInputBufferHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("transparent huge pages off on this kernel (%q)", bytes.TrimSpace(mode))
	}
	b := inputBuffer(4 << 20)
	if len(b) != 4<<20 {
		t.Fatalf("len %d", len(b))
	}
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	addr := uint64(uintptr(unsafe.Pointer(&b[0])))
	huge, found := mappingHugeKB(t, addr)
	if !found {
		t.Fatalf("no mapping holds %#x", addr)
	}
	if huge == 0 {
		t.Fatalf("the 4 MiB input buffer at %#x has no huge pages", addr)
	}
	small := inputBuffer(hugeInput - 1)
	if len(small) != hugeInput-1 {
		t.Fatalf("len %d", len(small))
	}
}

// mappingHugeKB reads AnonHugePages of the mapping that holds addr.
func mappingHugeKB(t *testing.T, addr uint64) (int, bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			var lo, hi uint64
			if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err == nil {
				in = lo <= addr && addr < hi
			}
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return kb, true
		}
	}
	return 0, false
}
