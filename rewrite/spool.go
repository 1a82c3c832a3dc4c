package rewrite

import (
	"bufio"
	"io"
	"sync"
)

// Buffers are reused across messages (a gateway rewrites one message per
// encrypted mail): a pooled item is reset before use and holds no data
// between uses. The kept parts and the zip are held in spillbuf.Buffers.
var (
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
