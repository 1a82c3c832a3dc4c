// Package bufpool holds the copy buffers and buffered writers that every
// message passes through on the gateway path (receive, spool files,
// delivery), so that a message's fixed cost carries no 32-64 KiB
// allocations that the garbage collector must then reclaim.
package bufpool

import (
	"bufio"
	"io"
	"sync"
)

// CopySize is the size of a pooled copy buffer (io.Copy's own).
const CopySize = 32 << 10

// WriterSize is the size of a pooled buffered writer.
const WriterSize = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, CopySize); return &b }}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, WriterSize) }}

// ReaderSize is the size of a pooled buffered reader.
const ReaderSize = 64 << 10

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, ReaderSize) }}

// Copy is io.Copy with a pooled buffer.
func Copy(dst io.Writer, src io.Reader) (int64, error) {
	b := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(b)
	return io.CopyBuffer(dst, src, *b)
}

// Get returns a pooled buffer of CopySize bytes; give it back with Put.
func Get() *[]byte { return copyBufs.Get().(*[]byte) }

// Put returns a buffer from Get. The caller must not use it afterwards.
func Put(b *[]byte) {
	if cap(*b) >= CopySize {
		*b = (*b)[:CopySize]
		copyBufs.Put(b)
	}
}

// Writer returns a pooled bufio.Writer writing to w; give it back with
// PutWriter once flushed (or abandoned).
func Writer(w io.Writer) *bufio.Writer {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

// PutWriter returns a writer from Writer; unflushed bytes are dropped. The
// caller must not use it afterwards.
func PutWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writers.Put(bw)
}

// Reader returns a pooled bufio.Reader of ReaderSize reading from r; give
// it back with PutReader once nothing read from it is in use.
func Reader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// PutReader returns a reader from Reader. The caller must not use it, or
// slices it returned, afterwards.
func PutReader(br *bufio.Reader) {
	br.Reset(nil)
	readers.Put(br)
}
