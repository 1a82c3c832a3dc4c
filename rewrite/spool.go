package rewrite

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// spool is a temporary file written through a buffer that can be cut back
// to an earlier size. The file is unlinked at once where the OS allows.
type spool struct {
	f    *os.File
	path string // set only if unlinking failed
	bw   *bufio.Writer
	n    int64
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "sendguard-rewrite-*")
	if err != nil {
		return nil, fmt.Errorf("rewrite: create temp file: %w", err)
	}
	s := &spool{f: f, bw: bufio.NewWriterSize(f, bufSize)}
	if err := os.Remove(f.Name()); err != nil {
		s.path = f.Name()
	}
	return s, nil
}

func (s *spool) Write(p []byte) (int, error) {
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("rewrite: write temp file: %w", err)
	}
	return n, nil
}

func (s *spool) writeString(v string) error {
	_, err := io.WriteString(s, v)
	return err
}

func (s *spool) size() int64 { return s.n }

func (s *spool) truncate(n int64) error {
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
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("rewrite: flush temp file: %w", err)
	}
	return nil
}

// section reads the content flushed so far with ReadAt, leaving the file
// offset alone: readers may run concurrently.
func (s *spool) section() *io.SectionReader {
	return io.NewSectionReader(s.f, 0, s.n)
}

// reader flushes the spool and returns a reader over its whole content.
func (s *spool) reader() (io.Reader, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s.section(), nil
}

func (s *spool) close() {
	_ = s.f.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}
