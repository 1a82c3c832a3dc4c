package rewrite

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// spoolMem is how much a spool keeps in memory before it moves to a
// temporary file: the kept parts and the zip of most mail fit, and then
// cost no file system calls; larger ones spill, so memory per message
// stays bounded.
const spoolMem = 512 << 10

// Buffers are reused across messages (a gateway rewrites one message per
// encrypted mail): a pooled item is reset before use and holds no data
// between uses. Spool memory starts small and grows with the content, up to
// spoolMem.
var (
	memPool     = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
	writerPool  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}
	readerPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

func getWriter(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writerPool.Put(bw)
}

func getReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

// copyPooled is io.Copy with a pooled buffer.
func copyPooled(dst io.Writer, src io.Reader) (int64, error) {
	b := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(b)
	return io.CopyBuffer(dst, src, *b)
}

// spool holds a growing byte sequence that can be cut back to an earlier
// size: in memory up to spoolMem, then in a temporary file written through
// a buffer and unlinked at once where the OS allows.
type spool struct {
	dir  string
	mem  []byte // pooled, while f is nil
	f    *os.File
	path string // set only if unlinking failed
	bw   *bufio.Writer
	n    int64
}

func newSpool(dir string) (*spool, error) {
	return &spool{dir: dir, mem: (*memPool.Get().(*[]byte))[:0]}, nil
}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil {
		if len(s.mem)+len(p) <= spoolMem {
			s.mem = append(growMem(s.mem, len(p), spoolMem), p...)
			s.n += int64(len(p))
			return len(p), nil
		}
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("rewrite: write temp file: %w", err)
	}
	return n, nil
}

// spill moves the content to a temporary file.
func (s *spool) spill() error {
	f, err := os.CreateTemp(s.dir, "sendguard-rewrite-*")
	if err != nil {
		return fmt.Errorf("rewrite: create temp file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		s.path = f.Name()
	}
	s.f = f
	s.bw = getWriter(f)
	if _, err := s.bw.Write(s.mem); err != nil {
		return fmt.Errorf("rewrite: write temp file: %w", err)
	}
	s.releaseMem()
	return nil
}

func (s *spool) releaseMem() {
	if s.mem != nil {
		m := s.mem[:0]
		memPool.Put(&m)
		s.mem = nil
	}
}

func (s *spool) writeString(v string) error {
	_, err := io.WriteString(s, v)
	return err
}

func (s *spool) size() int64 { return s.n }

func (s *spool) truncate(n int64) error {
	if s.f == nil {
		s.mem = s.mem[:n]
		s.n = n
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("rewrite: flush temp file: %w", err)
	}
	if err := s.f.Truncate(n); err != nil {
		return fmt.Errorf("rewrite: truncate temp file: %w", err)
	}
	if _, err := s.f.Seek(n, io.SeekStart); err != nil {
		return fmt.Errorf("rewrite: seek temp file: %w", err)
	}
	s.n = n
	return nil
}

// flush writes the buffer out; section then sees every byte written.
func (s *spool) flush() error {
	if s.f == nil {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("rewrite: flush temp file: %w", err)
	}
	return nil
}

// section reads the content flushed so far with ReadAt, leaving the file
// offset alone: readers may run concurrently.
func (s *spool) section() *io.SectionReader {
	if s.f == nil {
		return io.NewSectionReader(bytes.NewReader(s.mem), 0, s.n)
	}
	return io.NewSectionReader(s.f, 0, s.n)
}

// reader flushes the spool and returns a reader over its whole content.
func (s *spool) reader() (io.Reader, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s.section(), nil
}

// close releases the memory or the file. Readers from section must not be
// used afterwards.
func (s *spool) close() {
	s.releaseMem()
	if s.f == nil {
		return
	}
	putWriter(s.bw)
	s.bw = nil
	_ = s.f.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
	s.f = nil
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
