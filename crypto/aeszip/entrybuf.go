package aeszip

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// memLimit is how much of one encrypted entry is kept in memory before it
// moves to a temp file: most mail attachments fit, and they then cost no
// file system calls. Larger ones spill, so memory stays bounded per Writer
// (a gateway runs one Writer per message being encrypted).
const memLimit = 512 << 10

// entryBuf holds one encrypted entry until its sizes are known (the local
// header precedes the data): in memory up to memLimit, then in a temp file
// unlinked at once where the OS allows.
type entryBuf struct {
	dir  string
	mem  []byte // from memPool, while f is nil
	f    *os.File
	path string // set only if the temp file could not be unlinked early
	n    int64
}

// memPool holds entry buffers, so a busy gateway does not allocate one per
// message; see the pools in pool.go. A new buffer starts small and grows
// with the entries it holds, up to memLimit.
var memPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func (b *entryBuf) Write(p []byte) (int, error) {
	if b.f == nil && b.mem == nil {
		b.mem = (*memPool.Get().(*[]byte))[:0]
	}
	if b.f == nil && len(b.mem)+len(p) <= memLimit {
		b.mem = append(growMem(b.mem, len(p), memLimit), p...)
		b.n += int64(len(p))
		return len(p), nil
	}
	if b.f == nil {
		if err := b.spill(); err != nil {
			return 0, err
		}
	}
	n, err := b.f.Write(p)
	b.n += int64(n)
	return n, err
}

func (b *entryBuf) spill() error {
	f, err := os.CreateTemp(b.dir, "sendguard-zip-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		b.path = f.Name()
	}
	b.f = f
	if _, err := f.Write(b.mem); err != nil {
		return err
	}
	b.release()
	return nil
}

func (b *entryBuf) release() {
	if b.mem != nil {
		m := b.mem[:0]
		memPool.Put(&m)
		b.mem = nil
	}
}

// reset empties the buffer for the next entry; a temp file is kept and
// truncated.
func (b *entryBuf) reset() error {
	b.n = 0
	if b.mem != nil {
		b.mem = b.mem[:0]
	}
	if b.f == nil {
		return nil
	}
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind temp file: %w", err)
	}
	if err := b.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate temp file: %w", err)
	}
	return nil
}

// copyTo writes the entry to dst.
func (b *entryBuf) copyTo(dst io.Writer, buf []byte) error {
	if b.f == nil {
		_, err := dst.Write(b.mem)
		return err
	}
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind temp file: %w", err)
	}
	n, err := io.CopyBuffer(dst, io.LimitReader(b.f, b.n), buf)
	if err != nil {
		return err
	}
	if n != b.n {
		return fmt.Errorf("temp file: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

func (b *entryBuf) close() error {
	b.release()
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	if b.path != "" {
		if rerr := os.Remove(b.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	b.f = nil
	return err
}

// growMem makes room for n more bytes (len(b)+n <= limit), growing four
// times at a step so that a buffer on its way to the limit allocates
// little more than the limit in total.
func growMem(b []byte, n, limit int) []byte {
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
