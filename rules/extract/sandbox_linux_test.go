package extract

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A worker's stdin pipe is grown to workerPipe before its input is
// written, by both ways exec's copier reads it (a worker started for its
// file, a spare given one), and the bytes arrive as they were.
func TestWorkerInputGrowsPipe(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err != nil {
		t.Skip("no /proc/sys/fs/pipe-max-size")
	} else if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n < workerPipe {
		t.Skipf("fs.pipe-max-size is %d", n)
	}
	data := make([]byte, 3*spillChunk+5)
	rand.Read(data)
	w := &walker{lim: Limits{MaxMemory: 8 << 20, MaxMemoryTotal: 64 << 20, TempDir: t.TempDir()}.withDefaults()}
	inputs := map[string]func(io.Reader) io.Reader{
		"started": func(r io.Reader) io.Reader { return workerInput{r} },
		"spare": func(r io.Reader) io.Reader {
			l := &lateReader{ch: make(chan io.Reader, 1)}
			l.give(io.MultiReader(strings.NewReader("budget\n"), r))
			return l
		},
	}
	for name, input := range inputs {
		sp, err := w.spill(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		copied := make(chan error, 1)
		go func() {
			_, err := io.Copy(pw, input(sp.reader())) // as os/exec's stdin copier
			pw.Close()
			copied <- err
		}()
		got, err := io.ReadAll(pr)
		if err != nil || <-copied != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got = bytes.TrimPrefix(got, []byte("budget\n"))
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes arrived, differing from the %d sent", name, len(got), len(data))
		}
		size, err := unix.FcntlInt(pr.Fd(), unix.F_GETPIPE_SZ, 0)
		if err != nil || size != workerPipe {
			t.Fatalf("%s: the pipe holds %d bytes (%v), want %d", name, size, err, workerPipe)
		}
		pr.Close()
		sp.close()
	}
}
