package extract

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"testing"
	"testing/iotest"
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

// TestSpillChunks: an attachment held in chunks reads back the same at any
// offset and length, across chunk boundaries and past its end.
func TestSpillChunks(t *testing.T) {
	w := &walker{lim: Limits{MaxMemory: 8 << 20, MaxMemoryTotal: 64 << 20, TempDir: t.TempDir()}.withDefaults()}
	before := spillMem.Load()
	rng := mrand.New(mrand.NewPCG(1, 2))
	for _, size := range []int{0, 1, spillChunk - 1, spillChunk, spillChunk + 1, 3*spillChunk + 17} {
		data := make([]byte, size)
		rand.Read(data)
		// a reader that returns short reads, as a decoder does
		sp, err := w.spill(iotest.HalfReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sp.ReaderAt.(*chunks); !ok || sp.size != int64(size) {
			t.Fatalf("size %d: held as %T, size %d", size, sp.ReaderAt, sp.size)
		}
		ref := bytes.NewReader(data)
		for range 200 {
			off := rng.Int64N(int64(size) + 2)
			p := make([]byte, rng.IntN(2*spillChunk))
			q := make([]byte, len(p))
			n, err := sp.ReadAt(p, off)
			m, rerr := ref.ReadAt(q, off)
			if n != m || !bytes.Equal(p[:n], q[:m]) || (err == nil) != (rerr == nil) {
				t.Fatalf("size %d, ReadAt(%d bytes, %d) = %d, %v; bytes.Reader: %d, %v", size, len(p), off, n, err, m, rerr)
			}
		}
		if got, err := io.ReadAll(io.NewSectionReader(sp, 0, sp.size)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back differs (%v)", size, err)
		}
		// reader: by Read (short reads of odd sizes) and by WriteTo
		if got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(sp.reader(), 1000))); err != nil || !bytes.Equal(got, data[:min(size, 1000)]) {
			t.Fatalf("size %d: reader's Read differs (%v)", size, err)
		}
		var buf bytes.Buffer
		r := sp.reader()
		if _, ok := r.(io.WriterTo); !ok {
			t.Fatalf("size %d: reader %T of chunks does not write itself", size, r)
		}
		if n, err := io.Copy(&buf, r); err != nil || n != int64(size) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("size %d: reader's WriteTo wrote %d bytes (%v), differs: %v", size, n, err, !bytes.Equal(buf.Bytes(), data))
		}
		if n, err := io.Copy(io.Discard, r); n != 0 || err != nil {
			t.Fatalf("size %d: a read-out reader wrote %d more (%v)", size, n, err)
		}
		sp.close()
	}
	if used := spillMem.Load() - before; used != 0 {
		t.Errorf("%d bytes still reserved after every close", used)
	}
}

// BenchmarkSpill: an attachment made randomly accessible and read back
// once, at the sizes Office files come in.
//
//	go test ./rules/extract -run '^$' -bench Spill -count 4
func BenchmarkSpill(b *testing.B) {
	for _, size := range []int{200 << 10, 2 << 20, 12 << 20} {
		data := make([]byte, size)
		rand.Read(data)
		w := &walker{lim: Limits{TempDir: b.TempDir()}.withDefaults()}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			buf := make([]byte, 32<<10)
			for b.Loop() {
				sp, err := w.spill(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < sp.size; off += int64(len(buf)) {
					sp.ReadAt(buf, off)
				}
				sp.close()
			}
		})
	}
}
