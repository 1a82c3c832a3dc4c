package rewrite

import (
	"bytes"
	"crypto/sha256"
	"io"
	"runtime"
	"testing"
)

// TestReplaceLargeBoundedMemory streams a 50 MB attachment (5 MB with
// -short or -race) to a hashing Store and writes the message once: the
// bytes allocated stay far below the attachment's size.
func TestReplaceLargeBoundedMemory(t *testing.T) {
	size := int64(50 << 20)
	if testing.Short() || raceEnabled {
		size = 5 << 20
	}
	stored := sha256.New()
	var n int64
	opt := replaceOptions(func(f AttachmentFile, r io.Reader) error {
		var err error
		n, err = io.Copy(stored, r)
		return err
	})
	var out bytes.Buffer
	out.Grow(64 << 10)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := ReplaceAttachments(largeMessage(size), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Write(&out, noteA); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("attachment %d MiB: %.2f MiB allocated in total, %d objects; message %d bytes",
		size>>20, float64(alloc)/(1<<20), after.Mallocs-before.Mallocs, out.Len())
	if limit := uint64(2 << 20); alloc > limit {
		t.Errorf("allocated %d bytes for a %d-byte attachment (limit %d)", alloc, size, limit)
	}
	want := sha256.New()
	if _, err := io.Copy(want, newPRNG(size)); err != nil {
		t.Fatal(err)
	}
	files := r.Files()
	if len(files) != 1 || files[0].Size != size || n != size || !bytes.Equal(stored.Sum(nil), want.Sum(nil)) {
		t.Errorf("stored %d bytes, files %+v", n, files)
	}
	if out.Len() > 4<<10 || !bytes.Contains(out.Bytes(), []byte("see attached")) {
		t.Errorf("message of %d bytes:\n%s", out.Len(), out.Bytes())
	}
}
