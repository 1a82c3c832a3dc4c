package extract

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"testing"
)

// TestSpillSharedBudget: attachments held in memory for random access
// share one process-wide budget. Past it, the next one goes to a temporary
// file even though it is under MaxMemory; an attachment over MaxMemory
// always does. Every reader returns the bytes, and closing them all gives
// the budget back and leaves no file.
func TestSpillSharedBudget(t *testing.T) {
	dir := t.TempDir()
	w := &walker{lim: Limits{MaxMemory: 1 << 20, MaxMemoryTotal: 3 << 20, TempDir: dir}.withDefaults()}
	before := spillMem.Load()
	var open []*spilled
	var datas [][]byte
	inMem, inFile := 0, 0
	for i := range 6 {
		size := 900 << 10
		if i == 1 {
			size = 3 << 20 // over MaxMemory
		}
		data := make([]byte, size)
		rand.Read(data)
		sp, err := w.spill(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if sp.size != int64(size) {
			t.Fatalf("attachment %d: size %d, want %d", i, sp.size, size)
		}
		_, isFile := sp.ReaderAt.(*os.File)
		if i == 1 && !isFile {
			t.Errorf("attachment over MaxMemory held in memory")
		}
		if isFile {
			inFile++
		} else {
			inMem++
		}
		if used := spillMem.Load() - before; used > w.lim.MaxMemoryTotal {
			t.Errorf("after attachment %d: %d bytes in memory, budget %d", i, used, w.lim.MaxMemoryTotal)
		}
		open = append(open, sp)
		datas = append(datas, data)
	}
	if inMem != 3 || inFile != 3 {
		t.Errorf("%d attachments in memory and %d in files, want 3 and 3 (budget of three 1 MiB buffers)", inMem, inFile)
	}
	for i, sp := range open {
		got, err := io.ReadAll(io.NewSectionReader(sp, 0, sp.size))
		if err != nil || !bytes.Equal(got, datas[i]) {
			t.Errorf("attachment %d: bytes differ (%v)", i, err)
		}
		sp.close()
	}
	if used := spillMem.Load() - before; used != 0 {
		t.Errorf("%d bytes still reserved after every close", used)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d temporary files left", len(left))
	}
	// With the budget back, the next one is in memory again.
	sp, err := w.spill(bytes.NewReader(datas[0]))
	if err != nil {
		t.Fatal(err)
	}
	if _, isFile := sp.ReaderAt.(*os.File); isFile {
		t.Errorf("budget not given back: a small attachment went to a file")
	}
	sp.close()
}

// TestSpillReadError: a reader's error comes back and the budget with it.
func TestSpillReadError(t *testing.T) {
	w := &walker{lim: Limits{TempDir: t.TempDir()}.withDefaults()}
	before := spillMem.Load()
	r := io.MultiReader(bytes.NewReader(make([]byte, 200<<10)), errReader{io.ErrUnexpectedEOF})
	if _, err := w.spill(r); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want the reader's error", err)
	}
	if used := spillMem.Load() - before; used != 0 {
		t.Errorf("%d bytes still reserved after an error", used)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
