package smtp

import (
	"bufio"
	"io"
	"sync"
)

// dataBufSize is the buffer of a DATA transfer, on either side. textproto's
// 4 KiB buffers cost a read or write system call per 4 KiB of message; a
// large message then spends more in the calls than in the copying. The
// buffers are taken for the transfer only, so an idle connection keeps its
// 4 KiB ones.
const dataBufSize = 64 << 10

var (
	dataReaders = sync.Pool{New: func() interface{} { return bufio.NewReaderSize(nil, dataBufSize) }}
	dataWriters = sync.Pool{New: func() interface{} { return bufio.NewWriterSize(nil, dataBufSize) }}
)

// swapDataReader replaces *cur (reading from src) with a pooled large
// reader when nothing is buffered in it, so no byte changes readers, and
// returns the function that swaps back; it returns nil when it does
// nothing.
func swapDataReader(cur **bufio.Reader, src io.Reader) (restore func()) {
	if *cur == nil || (*cur).Buffered() != 0 {
		return nil
	}
	prev, big := *cur, dataReaders.Get().(*bufio.Reader)
	big.Reset(src)
	*cur = big
	return func() {
		if *cur != big || big.Buffered() != 0 {
			// Bytes after the data (pipelined commands) are in big: it
			// stays the connection's reader, outside the pool.
			return
		}
		*cur = prev
		big.Reset(nil)
		dataReaders.Put(big)
	}
}
