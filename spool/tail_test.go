package spool

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// tailBody starts a received message and writes past MaxInline so that it
// is on file, returning the bytes written.
func tailBody(t *testing.T, s *Store) (*BodyWriter, []byte) {
	t.Helper()
	bw, err := s.CreateMessage(NewID())
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte("0123456789abcde\n"), MaxInline/16+1)
	if _, err := bw.Write(first); err != nil {
		t.Fatal(err)
	}
	if !bw.OnFile() {
		t.Fatal("a body over MaxInline is not on file")
	}
	return bw, first
}

// followed is a body on file with a reader on its tail, closed at the
// test's end.
func followed(t *testing.T) (*BodyWriter, []byte, *TailReader) {
	t.Helper()
	bw, first := tailBody(t, openTest(t, t.TempDir()))
	tr, err := bw.Tail()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return bw, first, tr
}

// A reader on the tail gets every byte as written, waits for the ones
// not yet written, ends with io.EOF at the commit and can seek back.
func TestTailFollowsTheWriter(t *testing.T) {
	bw, want, tr := followed(t)
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(tr)
		got <- result{b, err}
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := make([]byte, rng.IntN(70_000))
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		want = append(want, p...)
		if _, err := bw.Write(p); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(8) == 0 {
			time.Sleep(100 * time.Microsecond) // the reader catches up and waits
		}
	}
	select {
	case r := <-got:
		t.Fatalf("the reader ended before the commit: %d bytes, %v", len(r.b), r.err)
	case <-time.After(20 * time.Millisecond):
	}
	sum, wait, err := bw.CommitStart()
	if err != nil || wait() != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || tr.Err() != nil || !bytes.Equal(r.b, want) {
		t.Fatalf("read %d bytes (%v), want the %d written", len(r.b), r.err, len(want))
	}
	if sum == "" {
		t.Fatal("no hash")
	}
	if off, err := tr.Seek(0, io.SeekCurrent); err != nil || off != int64(len(want)) {
		t.Fatalf("offset %d, %v", off, err)
	}
	if _, err := tr.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	again, err := io.ReadAll(tr)
	if err != nil || !bytes.Equal(again, want[5:]) {
		t.Fatalf("re-read after seeking back: %d bytes, %v", len(again), err)
	}
	if _, err := tr.Seek(int64(len(want))+1, io.SeekStart); err == nil {
		t.Fatal("seek past the bytes written succeeded")
	}
	select {
	case <-tr.Complete():
	default:
		t.Fatal("Complete not closed after the commit")
	}
}

// A discarded body ends its reader with an error, never io.EOF: an
// analysis must not decide on a cut message.
func TestTailEndsWithErrorOnAbort(t *testing.T) {
	bw, _, tr := followed(t)
	errc := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(tr)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	bw.Abort()
	select {
	case err := <-errc:
		if !errors.Is(err, errBodyAborted) || !errors.Is(tr.Err(), errBodyAborted) {
			t.Fatalf("reader ended with %v (Err %v)", err, tr.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader still waits after Abort")
	}
}

// StopOn ends a read that waits for bytes (a cancelled analysis).
func TestTailStopOn(t *testing.T) {
	bw, first, tr := followed(t)
	defer bw.Abort()
	stop := make(chan struct{})
	tr.StopOn(stop)
	errc := make(chan error, 1)
	go func() {
		b, err := io.ReadAll(tr)
		if err == nil && len(b) != len(first) {
			err = errors.New("short read")
		}
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	close(stop)
	select {
	case err := <-errc:
		if !errors.Is(err, ErrTailStopped) {
			t.Fatalf("reader ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader still waits after its stop")
	}
}

// A body still in memory has no tail; nor has a body a second one.
func TestTailOnlyOnFile(t *testing.T) {
	s := openTest(t, t.TempDir())
	bw, err := s.CreateMessage(NewID())
	if err != nil {
		t.Fatal(err)
	}
	defer bw.Abort()
	bw.Write([]byte("small\r\n"))
	if bw.OnFile() {
		t.Fatal("a small body is on file")
	}
	if _, err := bw.Tail(); err == nil {
		t.Fatal("a body in memory has a tail")
	}
	big, _ := tailBody(t, s)
	defer big.Abort()
	tr, err := big.Tail()
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := big.Tail(); err == nil {
		t.Fatal("a second tail")
	}
}
