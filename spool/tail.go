package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sendguard/sendguard/internal/regfile"
)

// A tail follows a body file while it is written: how far the bytes have
// reached the file, and whether the writer is done. The acceptance reads
// a large message as it arrives (BodyWriter.Tail), so that its analysis
// overlaps the DATA transfer instead of starting after the last byte.
type tail struct {
	mu       sync.Mutex
	n        int64 // bytes in the file
	done     bool
	err      error         // the writer's end: nil after a commit
	wake     chan struct{} // one pending wake-up for the reader
	complete chan struct{} // closed at the end
}

// errBodyAborted is what a tail's reader sees when the body is discarded.
var errBodyAborted = errors.New("spool: body discarded while it was being read")

func (t *tail) advance(n int) {
	t.mu.Lock()
	t.n += int64(n)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *tail) finish(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	t.done, t.err = true, err
	close(t.complete)
}

func (t *tail) state() (n int64, done bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, t.done, t.err
}

// tailWriter is the file under the body's buffer once a tail follows it:
// every write that reaches the file advances the tail.
type tailWriter struct {
	f *os.File
	t *tail
}

func (w *tailWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.t.advance(n)
	return n, err
}

// OnFile reports whether the body is being written to its file (it
// outgrew memory, or never was kept there).
func (b *BodyWriter) OnFile() bool { return b.f != nil && b.w != nil }

// Tail opens a reader of the body file as it is being written, from its
// first byte: a read waits for bytes the writer has not yet flushed, and
// returns io.EOF after Commit or CommitStart wrote the last one, or an
// error after Abort. It is for one reader, on another goroutine; the
// caller closes it. Only a body on file (OnFile) has a tail.
func (b *BodyWriter) Tail() (*TailReader, error) {
	if !b.OnFile() {
		return nil, errors.New("spool: body is not on file")
	}
	if b.tail != nil {
		return nil, errors.New("spool: body already has a tail")
	}
	if err := b.w.Flush(); err != nil {
		return nil, fmt.Errorf("write spool file: %w", err)
	}
	f, err := regfile.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("open spool file: %w", err)
	}
	t := &tail{n: b.n, wake: make(chan struct{}, 1), complete: make(chan struct{})}
	b.tail = t
	b.w.Reset(&tailWriter{f: b.f, t: t})
	return &TailReader{t: t, f: f}, nil
}

// endTail tells the tail's reader that the writer is done.
func (b *BodyWriter) endTail(err error) {
	if b.tail != nil {
		b.tail.finish(err)
	}
}

// TailReader reads a body file as it is written (BodyWriter.Tail). It
// seeks within the bytes written so far.
type TailReader struct {
	t    *tail
	f    *os.File
	off  int64
	stop <-chan struct{}
}

// StopOn makes a read that waits for bytes return ErrTailStopped once
// done is closed (a cancelled analysis).
func (r *TailReader) StopOn(done <-chan struct{}) { r.stop = done }

// ErrTailStopped is a read's error after the StopOn channel closed.
var ErrTailStopped = errors.New("spool: read of an arriving body stopped")

// Err is the writer's end: nil while it writes and after a commit, an
// error after Abort. An analysis that read a discarded body (whose
// reader's error it may have taken for a cut message) must not stand.
func (r *TailReader) Err() error {
	_, _, err := r.t.state()
	return err
}

// Complete is closed once the writer is done (committed or discarded).
func (r *TailReader) Complete() <-chan struct{} { return r.t.complete }

func (r *TailReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, done, err := r.t.state()
		if r.off < n && (err == nil || !done) {
			k, rerr := r.f.ReadAt(p[:min(int64(len(p)), n-r.off)], r.off)
			r.off += int64(k)
			if k > 0 {
				return k, nil
			}
			if rerr == nil || rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF // the file is shorter than written
			}
			return 0, rerr
		}
		if done {
			if err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		select {
		case <-r.t.wake:
		case <-r.t.complete:
		case <-r.stop:
			return 0, ErrTailStopped
		}
	}
}

// Seek moves within the bytes written so far (io.SeekStart and
// io.SeekCurrent): the analysis goes back to re-read a broken message.
func (r *TailReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	default:
		return 0, errors.New("spool: tail seek: unsupported whence")
	}
	if n, _, _ := r.t.state(); offset < 0 || offset > n {
		return 0, errors.New("spool: tail seek: outside the bytes written")
	}
	r.off = offset
	return offset, nil
}

// Close closes the reader's file.
func (r *TailReader) Close() error { return r.f.Close() }
