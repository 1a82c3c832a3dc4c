// Package spillbuf holds a byte sequence in memory up to a limit and in an
// unlinked temporary file beyond it. The rewriter keeps the parts of a
// message it passes through and the zip archive it builds (into which
// large entries stream, their local header's sizes written afterwards
// with WriteAt), and the zip writer keeps an encrypted entry until its
// sizes are known when its destination cannot be patched: most
// mail fits in memory and then costs no file system call, larger content
// spills, so memory per message stays bounded whatever its size.
package spillbuf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// MemLimit is how much a Buffer keeps in memory before it spills.
const MemLimit = 512 << 10

// Memory starts small and grows with the content up to MemLimit; pooled so
// that a busy gateway does not allocate it per message.
var (
	memPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
)

// Buffer is a growing byte sequence that can be cut back to an earlier
// size. It is not safe for concurrent writes; readers from Section may run
// concurrently with each other.
type Buffer struct {
	dir, name string
	mem       []byte // pooled, while f is nil
	f         *os.File
	path      string // set only if the temp file could not be unlinked early
	bw        *bufio.Writer
	n         int64
}

// New returns an empty buffer whose temp file, if it needs one, is created
// in dir (the system's when empty) with name in its file name.
func New(dir, name string) *Buffer { return &Buffer{dir: dir, name: name} }

func (b *Buffer) Write(p []byte) (int, error) {
	if b.f == nil {
		if b.mem == nil {
			b.mem = (*memPool.Get().(*[]byte))[:0]
		}
		if len(b.mem)+len(p) <= MemLimit {
			b.mem = append(grow(b.mem, len(p), MemLimit), p...)
			b.n += int64(len(p))
			return len(p), nil
		}
		if err := b.spill(); err != nil {
			return 0, err
		}
	}
	n, err := b.bw.Write(p)
	b.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("%s: write temp file: %w", b.name, err)
	}
	return n, nil
}

// WriteString writes s.
func (b *Buffer) WriteString(s string) (int, error) { return b.Write([]byte(s)) }

// Size is the number of bytes held.
func (b *Buffer) Size() int64 { return b.n }

// Spilled reports whether the content has moved to a temp file.
func (b *Buffer) Spilled() bool { return b.f != nil }

func (b *Buffer) spill() error {
	f, err := os.CreateTemp(b.dir, "sendguard-"+b.name+"-*")
	if err != nil {
		return fmt.Errorf("%s: create temp file: %w", b.name, err)
	}
	if err := os.Remove(f.Name()); err != nil {
		b.path = f.Name()
	}
	b.f = f
	b.bw = bufpool.Writer(f)
	if _, err := b.bw.Write(b.mem); err != nil {
		return fmt.Errorf("%s: write temp file: %w", b.name, err)
	}
	b.releaseMem()
	return nil
}

func (b *Buffer) releaseMem() {
	if b.mem != nil {
		m := b.mem[:0]
		memPool.Put(&m)
		b.mem = nil
	}
}

// WriteAt overwrites bytes already written (off+len(p) <= Size): the zip
// writer fills in an entry's sizes in its local header once the entry has
// been streamed after it.
func (b *Buffer) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > b.n {
		return 0, fmt.Errorf("%s: write at %d+%d past %d bytes", b.name, off, len(p), b.n)
	}
	if b.f == nil {
		return copy(b.mem[off:], p), nil
	}
	if err := b.bw.Flush(); err != nil {
		return 0, fmt.Errorf("%s: flush temp file: %w", b.name, err)
	}
	n, err := b.f.WriteAt(p, off)
	if err != nil {
		return n, fmt.Errorf("%s: write temp file: %w", b.name, err)
	}
	return n, nil
}

// Truncate cuts the content back to its first n bytes (n <= Size). A
// spilled buffer keeps its file.
func (b *Buffer) Truncate(n int64) error {
	if n < 0 || n > b.n {
		return fmt.Errorf("%s: truncate to %d of %d bytes", b.name, n, b.n)
	}
	if b.f == nil {
		if b.mem != nil {
			b.mem = b.mem[:n]
		}
		b.n = n
		return nil
	}
	if err := b.bw.Flush(); err != nil {
		return fmt.Errorf("%s: flush temp file: %w", b.name, err)
	}
	if err := b.f.Truncate(n); err != nil {
		return fmt.Errorf("%s: truncate temp file: %w", b.name, err)
	}
	if _, err := b.f.Seek(n, io.SeekStart); err != nil {
		return fmt.Errorf("%s: seek temp file: %w", b.name, err)
	}
	b.n = n
	return nil
}

// Section flushes what was written and returns a reader over all of it
// that reads with ReadAt, so it leaves the file offset alone. It is valid
// until the next Write, Truncate or Close.
func (b *Buffer) Section() (*io.SectionReader, error) {
	if b.f == nil {
		return io.NewSectionReader(bytes.NewReader(b.mem), 0, b.n), nil
	}
	if err := b.bw.Flush(); err != nil {
		return nil, fmt.Errorf("%s: flush temp file: %w", b.name, err)
	}
	return io.NewSectionReader(b.f, 0, b.n), nil
}

// CopyTo writes the whole content to dst, through buf when it comes from
// the temp file.
func (b *Buffer) CopyTo(dst io.Writer, buf []byte) error {
	if b.f == nil {
		_, err := dst.Write(b.mem)
		return err
	}
	sr, err := b.Section()
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(dst, sr, buf)
	if err != nil {
		return err
	}
	if n != b.n {
		return fmt.Errorf("%s: temp file: %w", b.name, io.ErrUnexpectedEOF)
	}
	return nil
}

// Close releases the memory or the temp file. Readers from Section must
// not be used afterwards. The buffer may be used again, empty.
func (b *Buffer) Close() error {
	b.releaseMem()
	b.n = 0
	if b.f == nil {
		return nil
	}
	bufpool.PutWriter(b.bw)
	b.bw = nil
	err := b.f.Close()
	if b.path != "" {
		if rerr := os.Remove(b.path); rerr != nil && err == nil {
			err = rerr
		}
		b.path = ""
	}
	b.f = nil
	return err
}

// grow makes room for n more bytes (len(b)+n <= limit), growing four times
// at a step so that a buffer on its way to the limit allocates little more
// than the limit in total.
func grow(b []byte, n, limit int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	c := max(cap(b), 1)
	for c < len(b)+n {
		c *= 4
	}
	nb := make([]byte, len(b), min(c, limit))
	copy(nb, b)
	return nb
}
